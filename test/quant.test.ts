// quantize / dequantize / quantizedAttention against the fp64 reference
// (reference/quant.ts): exact quantization, the attention sweep, accuracy against
// unquantized attention, pre-quantized caches, SIMD paths, bad input.
import t from 'tap';
import type { Test } from 'tap';
import {
  Tensor, backendInfo, setNumThreads, setSimdLevel, setVectorWidth, quantizeSync, quantize, dequantizeSync, quantizedAttentionSync,
  quantizedAttention, attentionSync, type FloatDType, type QuantizedTensor,
} from '../lib';
import { randomArray, roundTo, rounder, tensor, bitsEqual, rng, quantSweep, sameBits, quantDecodeShapes, tiledRows, headsOffTiled } from './helpers';
import { attentionRef } from '../reference/attention';
import { quantizeRef, packRef, dequantizeRef, quantizedAttentionRef, accuracy } from '../reference/quant';
import { blockKeep, randomBlockMask } from '../reference/sparse';
import { runChild, describe as describeChild, root } from './child';
import { gaussian as gaussianRef } from '../reference/random';
import * as path from 'path';

const f32 = (x: Tensor) => Float32Array.from(x.dtype === 'float32' ? (x.data as Float32Array) : x.toFloat32());

// Gaussian values (Box-Muller over the seeded uniform generator).
function gaussian(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = (r() + 1) / 2 || 1e-12, v = (r() + 1) / 2;
    a[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return a;
}

t.test('quantize matches the reference quantizer bit for bit', async (t) => {
  for (const [B, H, N, D] of [[1, 1, 1, 1], [2, 3, 17, 5], [1, 2, 130, 64], [1, 1, 9, 7]])
    for (const bits of [8, 4] as const)
      for (const granularity of ['block', 'token'] as const)
        for (const smooth of [false, true]) {
          const blockSize = 8;
          const x = randomArray(B * H * N * D, N + D + bits, 3);
          const q = quantizeSync(tensor(x, [B, H, N, D], 'float32'), { bits, granularity, blockSize, smooth });
          const group = granularity === 'token' ? 1 : blockSize;
          const ref = quantizeRef(x, B, H, N, D, bits, group, smooth);
          const what = `${[B, H, N, D]} int${bits} ${granularity} smooth=${smooth}`;
          t.same(q.data.shape, [B, H, N, bits === 8 ? D : Math.ceil(D / 2)], `${what}: data shape`);
          t.equal(q.data.dtype, bits === 8 ? 'int8' : 'uint8', `${what}: data dtype`);
          t.ok(Buffer.from(q.data.data.buffer, q.data.data.byteOffset, q.data.data.byteLength)
            .equals(Buffer.from(packRef(ref.values, B * H * N, D, bits))), `${what}: data`);
          t.same(Array.from(q.scales.data), Array.from(ref.scales), `${what}: scales`);
          if (smooth) t.same(Array.from(q.mean!.data), Array.from(ref.mean!), `${what}: mean`);
          else t.equal(q.mean, undefined, `${what}: no mean`);
          const deq = dequantizeSync(q);
          t.same(Array.from(deq.data), Array.from(Float32Array.from(dequantizeRef(ref, B, H, N, D, group))), `${what}: dequantize`);
        }
});

t.test('INT4 packing order, rounding at .5, all-zero groups, extremes', async (t) => {
  // Scale 1 (max 7): values 1, -2, 3 (2.5 rounds away to 3), -3 (-2.5 away), 0, 7.
  const x = Float32Array.from([1, -2, 2.5, -2.5, 0, 7, 0.5, -0.5]);
  const q = quantizeSync(tensor(x, [1, 1, 1, 8], 'float32'), { bits: 4, granularity: 'token' });
  t.equal(q.scales.data[0], 1);
  const n = (v: number) => v & 15;
  t.same(Array.from(q.data.data), [n(1) | (n(-2) << 4), n(3) | (n(-3) << 4), n(0) | (n(7) << 4), n(1) | (n(-1) << 4)]);
  // INT8: scale 127/127 = 1; .5 rounds away from zero.
  const y = Float32Array.from([127, 0.5, -0.5, 1.5, -126.5]);
  const q8 = quantizeSync(tensor(y, [1, 1, 1, 5], 'float32'), { bits: 8, granularity: 'token' });
  t.same(Array.from(q8.data.data), [127, 1, -1, 2, -127]);
  // A huge block is one group per head; NaN quantizes to 0 (its group's scale ignores it).
  const qh = quantizeSync(tensor(Float32Array.from([1, NaN, -2.5, 127]), [1, 1, 2, 2], 'float32'), { blockSize: 2 ** 40 });
  t.same(Array.from(qh.scales.data), [1]);
  t.same(Array.from(qh.data.data), [1, 0, -3, 127]);
  // All-zero groups: scale 0 and zeros back, never NaN.
  const z = new Float32Array(2 * 6);
  z.set([0, 0, 0, 1, 2, 3], 6);
  const qz = quantizeSync(tensor(z, [1, 1, 2, 6], 'float32'), { bits: 8, granularity: 'token' });
  t.same(Array.from(qz.scales.data), [0, Math.fround(3 / 127)]);
  const dz = dequantizeSync(qz);
  t.ok(Array.from(dz.data.subarray(0, 6)).every((v) => v === 0), 'zeros out');
  t.ok(Array.from(dz.data).every((v) => !Number.isNaN(v)), 'no NaN');
  // fp16 input, bnhd layout: the same as its bhnd transpose.
  const B = 1, N = 5, H = 3, D = 4;
  const a = randomArray(B * N * H * D, 9);
  const bh = new Float32Array(a.length);
  for (let n = 0; n < N; n++) for (let h = 0; h < H; h++) for (let d = 0; d < D; d++) bh[(h * N + n) * D + d] = a[(n * H + h) * D + d];
  const qa = quantizeSync(tensor(a, [B, N, H, D], 'float16'), { layout: 'bnhd', smooth: true });
  const qb = quantizeSync(tensor(bh, [B, H, N, D], 'float16'), { smooth: true });
  t.same(qa.shape, [B, H, N, D]);
  t.ok(bitsEqual(qa.data, qb.data) && bitsEqual(qa.scales, qb.scales) && bitsEqual(qa.mean!, qb.mean!), 'bnhd = bhnd');
  const asy = await quantize(tensor(bh, [B, H, N, D], 'float16'), { smooth: true });
  t.ok(bitsEqual(asy.data, qb.data), 'async = sync');
});

interface Shape { B: number; Hq: number; Hkv: number; Nq: number; Nk: number; D: number; Dv: number }

function inputs(s: Shape, seed: number, dtype: FloatDType, outlier = 0) {
  const q = roundTo(gaussian(s.B * s.Hq * s.Nq * s.D, seed), dtype);
  const k = gaussian(s.B * s.Hkv * s.Nk * s.D, seed + 1);
  if (outlier) for (let i = 0; i < k.length; i += s.D) for (const c of [1, 5, 11]) if (c < s.D) k[i + c] += outlier;
  const v = roundTo(gaussian(s.B * s.Hkv * s.Nk * s.Dv, seed + 2), dtype);
  return { q, k: roundTo(k, dtype), v };
}

type QOpts = Parameters<typeof quantizedAttentionSync>[3] & object;

function check(t: Test, s: Shape, o: QOpts & { dtype?: FloatDType; seed?: number }) {
  const dtype = o.dtype ?? 'float32';
  const { q, k, v } = inputs(s, o.seed ?? 1, dtype);
  const { dtype: _d, seed: _s, ...opts } = o;
  const r = quantizedAttentionSync(tensor(q, [s.B, s.Hq, s.Nq, s.D], dtype), tensor(k, [s.B, s.Hkv, s.Nk, s.D], dtype),
    tensor(v, [s.B, s.Hkv, s.Nk, s.Dv], dtype), { ...opts, returnLse: true });
  const pvRound = o.pv && o.pv !== 'fp32' ? rounder(o.pv === 'bf16' ? 'bfloat16' : 'float16') : undefined;
  const ref = quantizedAttentionRef(q, k, v, s, { ...opts, roundV: pvRound });
  const out = f32(r.out), lse = r.lse.data as Float32Array;
  let err = 0, lerr = 0;
  for (let i = 0; i < out.length; i++) err = Math.max(err, Math.abs(out[i] - ref.out[i]));
  for (let i = 0; i < lse.length; i++)
    lerr = Math.max(lerr, lse[i] === ref.lse[i] ? 0 : Math.abs(lse[i] - ref.lse[i]) / Math.max(1, Math.abs(ref.lse[i])));
  // fp32 roundings of the scores (and the output dtype, P's pv rounding) only.
  const tol = (dtype === 'bfloat16' || o.pv === 'bf16' ? 2e-2 : dtype === 'float16' || o.pv === 'fp16' ? 3e-3 : 2e-4);
  t.ok(err <= tol, `${JSON.stringify({ ...s, ...o })}: max |out - ref| ${err.toExponential(2)} <= ${tol}`);
  t.ok(lerr <= 1e-4, `lse rel err ${lerr.toExponential(2)}`);
}

t.test('quantizedAttention against the quantized reference: shapes x options', async (t) => {
  const shapes: Shape[] = [
    { B: 1, Hq: 1, Hkv: 1, Nq: 1, Nk: 1, D: 16, Dv: 16 },
    { B: 2, Hq: 4, Hkv: 2, Nq: 17, Nk: 113, D: 64, Dv: 64 },
    { B: 1, Hq: 2, Hkv: 1, Nq: 113, Nk: 17, D: 80, Dv: 48 },
    { B: 1, Hq: 3, Hkv: 3, Nq: 200, Nk: 200, D: 7, Dv: 9 },
    { B: 1, Hq: 8, Hkv: 2, Nq: 1, Nk: 300, D: 128, Dv: 128 },  // decode (GQA)
    { B: 1, Hq: 4, Hkv: 1, Nq: 2, Nk: 130, D: 33, Dv: 16 },    // decode, odd head dim
  ];
  let i = 0;
  for (const s of shapes)
    for (const qkBits of [8, 4] as const)
      for (const granularity of ['block', 'token'] as const) {
        const n = i++;
        const causal = (n & 1) === 1;
        const window: [number, number] | undefined = n % 3 === 2 ? [Math.max(1, s.Nk >> 2), causal ? 0 : 5] : undefined;
        check(t, s, { qkBits, granularity, causal, window, seed: n, smoothQ: qkBits === 4 });
      }
  const s = shapes[1];
  check(t, s, { softcap: 2.5, seed: 3 });
  check(t, shapes[4], { softcap: 2.5, seed: 3 });
  check(t, s, { scale: 0.3, smoothK: false, seed: 4 });
  check(t, s, { dtype: 'float16', seed: 5 });
  check(t, s, { dtype: 'bfloat16', causal: true, seed: 6 });
  check(t, s, { pv: 'bf16', seed: 7 });
  check(t, s, { pv: 'fp16', seed: 8 });
  check(t, shapes[4], { pv: 'bf16', seed: 9 });
});

t.test('the reference sweep on the AVX2 and scalar paths', async (t) => {
  const have = backendInfo().cpu.simd;
  t.teardown(() => setSimdLevel(have));
  const shapes: Shape[] = [
    { B: 2, Hq: 4, Hkv: 2, Nq: 31, Nk: 97, D: 40, Dv: 24 },
    { B: 1, Hq: 3, Hkv: 3, Nq: 50, Nk: 50, D: 7, Dv: 9 },
    { B: 1, Hq: 8, Hkv: 2, Nq: 1, Nk: 150, D: 36, Dv: 20 },
  ];
  for (const level of ['avx2', 'scalar'] as const) {
    if (level === 'avx2' && have === 'scalar') {
      t.comment('avx2 path skipped: this CPU has no AVX2');
      continue;
    }
    setSimdLevel(level);
    let i = 0;
    for (const s of shapes)
      for (const qkBits of [8, 4] as const)
        check(t, s, { qkBits, granularity: qkBits === 4 ? 'token' : 'block', smoothQ: qkBits === 4, causal: (i++ & 1) === 1, seed: i });
  }
});

t.test('block masks (the sparse family\'s mask option)', async (t) => {
  const cases: [Shape, number, number][] = [  // shape, mask heads, block
    [{ B: 1, Hq: 4, Hkv: 2, Nq: 200, Nk: 300, D: 32, Dv: 32 }, 4, 64],  // per query head: one head per tile
    [{ B: 2, Hq: 4, Hkv: 2, Nq: 130, Nk: 130, D: 24, Dv: 16 }, 2, 64],  // per kv head: packed GQA tiles
    [{ B: 1, Hq: 2, Hkv: 1, Nq: 256, Nk: 256, D: 64, Dv: 64 }, 1, 128],
  ];
  let seed = 50;
  for (const [s, Hm, block] of cases)
    for (const qkBits of [8, 4] as const) {
      const nqb = Math.ceil(s.Nq / block), nkb = Math.ceil(s.Nk / block);
      const mask = randomBlockMask(s.B, Hm, nqb, nkb, 0.5, seed++);
      const { q, k, v } = inputs(s, seed, 'float32', 30);
      const o = { qkBits, granularity: 'token', smoothQ: qkBits === 4, causal: qkBits === 4, blockSize: block as 64 | 128 } as const;
      const r = quantizedAttentionSync(tensor(q, [s.B, s.Hq, s.Nq, s.D], 'float32'), tensor(k, [s.B, s.Hkv, s.Nk, s.D], 'float32'),
        tensor(v, [s.B, s.Hkv, s.Nk, s.Dv], 'float32'), { ...o, mask: new Tensor('uint8', mask, [s.B, Hm, nqb, nkb]), returnLse: true });
      const ref = quantizedAttentionRef(q, k, v, s, { ...o, keep: blockKeep({ block, mask, Hm }, s.Hq, s.Nq, s.Nk) });
      let err = 0, lerr = 0;
      const out = r.out.data as Float32Array, lse = r.lse.data as Float32Array;
      for (let i = 0; i < out.length; i++) err = Math.max(err, Math.abs(out[i] - ref.out[i]));
      for (let i = 0; i < lse.length; i++) lerr = Math.max(lerr, lse[i] === ref.lse[i] ? 0 : Math.abs(lse[i] - ref.lse[i]));
      t.ok(err <= 2e-4 && lerr <= 1e-3, `Hm ${Hm} block ${block} int${qkBits}: max err ${err.toExponential(2)}, lse ${lerr.toExponential(2)}`);
    }
});

t.test('layouts and out', async (t) => {
  const B = 1, Hq = 4, Hkv = 2, N = 37, D = 32;
  const { q, k, v } = inputs({ B, Hq, Hkv, Nq: N, Nk: N, D, Dv: D }, 11, 'float32');
  const bnhd = (x: Float32Array, H: number) => {
    const y = new Float32Array(x.length);
    for (let h = 0; h < H; h++) for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) y[(n * H + h) * D + d] = x[(h * N + n) * D + d];
    return y;
  };
  const a = quantizedAttentionSync(tensor(q, [B, Hq, N, D], 'float32'), tensor(k, [B, Hkv, N, D], 'float32'),
    tensor(v, [B, Hkv, N, D], 'float32'), { causal: true });
  const out = Tensor.zeros('float32', [B, N, Hq, D]);
  const b = quantizedAttentionSync(tensor(bnhd(q, Hq), [B, N, Hq, D], 'float32'), tensor(bnhd(k, Hkv), [B, N, Hkv, D], 'float32'),
    tensor(bnhd(v, Hkv), [B, N, Hkv, D], 'float32'), { causal: true, layout: 'bnhd', out });
  t.equal(b, out, 'returns out');
  t.same(Array.from(bnhd(a.data as Float32Array, Hq)), Array.from(out.data), 'bnhd = bhnd');
  const c = await quantizedAttention(tensor(q, [B, Hq, N, D], 'float32'), tensor(k, [B, Hkv, N, D], 'float32'),
    tensor(v, [B, Hkv, N, D], 'float32'), { causal: true });
  t.ok(bitsEqual(a, c), 'async = sync');
});

function accuracyCase(outlier: number, o: QOpts, seed = 21) {
  const s: Shape = { B: 1, Hq: 2, Hkv: 2, Nq: 256, Nk: 256, D: 64, Dv: 64 };
  const { q, k, v } = inputs(s, seed, 'float32', outlier);
  const r = quantizedAttentionSync(tensor(q, [1, 2, 256, 64], 'float32'), tensor(k, [1, 2, 256, 64], 'float32'),
    tensor(v, [1, 2, 256, 64], 'float32'), o) as Tensor;
  return accuracy(r.data as Float32Array, attentionRef(q, k, v, s, {}).out);
}

t.test('accuracy against unquantized fp64 attention', async (t) => {
  for (const outlier of [0, 30]) {
    for (const granularity of ['block', 'token'] as const) {
      const a = accuracyCase(outlier, { granularity });
      t.ok(a.cosine >= 0.9995 && a.relL1 <= 0.02, `INT8 ${granularity} outlier ${outlier}: cos ${a.cosine.toFixed(5)} relL1 ${a.relL1.toFixed(4)}`);
    }
    const a4 = accuracyCase(outlier, { qkBits: 4, granularity: 'token', smoothQ: true });
    t.ok(a4.cosine >= 0.98, `INT4 token smoothQ outlier ${outlier}: cos ${a4.cosine.toFixed(4)} relL1 ${a4.relL1.toFixed(4)}`);
  }
  // Without smoothing the outlier channels take the scales: measurably worse.
  const on = accuracyCase(30, {}), off = accuracyCase(30, { smoothK: false });
  t.ok(off.relL1 > 2 * on.relL1 && off.cosine < on.cosine,
    `smoothK off relL1 ${off.relL1.toFixed(4)} vs on ${on.relL1.toFixed(4)}; cos ${off.cosine.toFixed(5)} vs ${on.cosine.toFixed(5)}`);
});

t.test('pre-quantized K and V give the same result as quantizing inside the call', async (t) => {
  for (const [Nq, Hq] of [[1, 8], [3, 8], [64, 8]])
    for (const bits of [8, 4] as const)
      for (const granularity of ['block', 'token'] as const) {
        const Hkv = 2, Nk = 333, D = 64;
        const s: Shape = { B: 1, Hq, Hkv, Nq, Nk, D, Dv: D };
        const { q, k, v } = inputs(s, Nq + bits, 'float32', 30);
        const qt = tensor(q, [1, Hq, Nq, D], 'float32'), kt = tensor(k, [1, Hkv, Nk, D], 'float32');
        const vt = tensor(v, [1, Hkv, Nk, D], 'float32');
        const o = { qkBits: bits, granularity, returnLse: true } as const;
        const a = quantizedAttentionSync(qt, kt, vt, o);
        const kq = quantizeSync(kt, { bits, granularity, blockSize: 64, smooth: true });
        const b = quantizedAttentionSync(qt, kq, vt, o);
        const what = `Nq ${Nq} int${bits} ${granularity}`;
        t.ok(bitsEqual(a.out, b.out) && bitsEqual(a.lse, b.lse), `${what}: same bits`);
        const b2 = await quantizedAttention(qt, kq, vt, o);
        t.ok(bitsEqual(a.out, b2.out), `${what}: async with a quantized k, same bits`);
        // A quantized V cache against the reference with V dequantized.
        const vq = quantizeSync(vt, { bits, granularity: 'token' });
        const c = quantizedAttentionSync(qt, kq, vq, o);
        const vref = quantizeRef(v, 1, Hkv, Nk, D, bits, 1, false);
        const kref = quantizeRef(k, 1, Hkv, Nk, D, bits, granularity === 'token' ? 1 : 64, true);
        const ref = quantizedAttentionRef(q, k, v, s, { ...o, kq: { q: kref, group: granularity === 'token' ? 1 : 64 }, vq: { q: vref, group: 1 } });
        let err = 0;
        const out = c.out.data as Float32Array;
        for (let i = 0; i < out.length; i++) err = Math.max(err, Math.abs(out[i] - ref.out[i]));
        t.ok(err <= 2e-4, `${what}: int${bits} V cache, max err ${err.toExponential(2)}`);
      }
});

t.test('SIMD paths agree', async (t) => {
  const have = backendInfo().cpu.simd;
  t.teardown(() => {
    setSimdLevel(have);
    setVectorWidth('auto');
  });
  const s: Shape = { B: 1, Hq: 4, Hkv: 2, Nq: 77, Nk: 201, D: 72, Dv: 40 };
  const { q, k, v } = inputs(s, 31, 'float32', 30);
  const run = (o: QOpts) => quantizedAttentionSync(tensor(q, [1, 4, 77, 72], 'float32'), tensor(k, [1, 2, 201, 72], 'float32'),
    tensor(v, [1, 2, 201, 40], 'float32'), { ...o, returnLse: true });
  const maxDiff = (a: Tensor, b: Tensor) => {
    let m = 0;
    for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs((a.data[i] as number) - (b.data[i] as number)));
    return m;
  };
  for (const o of [{ causal: true }, { qkBits: 4, granularity: 'token', smoothQ: true }] as QOpts[]) {
    setSimdLevel(have);
    setVectorWidth(512);
    const base = run(o);
    if (have === 'avx512') {
      // zmm and ymm tiles: the same integer products and the same fp32 steps per lane.
      setVectorWidth(256);
      const y = run(o);
      t.ok(bitsEqual(base.out, y.out) && bitsEqual(base.lse, y.lse), `avx512 ymm = zmm (${JSON.stringify(o)})`);
      setVectorWidth(512);
      if (!backendInfo().cpu.features.avx512vnni) t.comment('VNNI path skipped: this CPU has no AVX512-VNNI');
    }
    for (const level of ['avx2', 'scalar'] as const) {
      if (level === 'avx2' && have === 'scalar') {
        t.comment('avx2 path skipped: this CPU has no AVX2');
        continue;
      }
      setSimdLevel(level);
      // Integer scores agree exactly; the softmax's exp2 differs per ISA by an ulp or so,
      // as in dense attention.
      const r = run(o);
      t.ok(maxDiff(base.out, r.out) <= 1e-6 && maxDiff(base.lse, r.lse) <= 1e-5,
        `${level} within an ulp or so of ${have}: ${maxDiff(base.out, r.out).toExponential(2)} (${JSON.stringify(o)})`);
    }
  }
});

t.test('the same bits at any thread count', async (t) => {
  const threads = backendInfo().cpu.threads;
  t.teardown(() => setNumThreads(threads));
  for (const s of [{ B: 2, Hq: 4, Hkv: 2, Nq: 150, Nk: 230, D: 48, Dv: 32 }, { B: 1, Hq: 8, Hkv: 2, Nq: 1, Nk: 3000, D: 64, Dv: 64 }]) {
    const { q, k, v } = inputs(s, 61, 'float32', 30);
    const run = () => quantizedAttentionSync(tensor(q, [s.B, s.Hq, s.Nq, s.D], 'float32'), tensor(k, [s.B, s.Hkv, s.Nk, s.D], 'float32'),
      tensor(v, [s.B, s.Hkv, s.Nk, s.Dv], 'float32'), { qkBits: 4, smoothQ: true, causal: true, returnLse: true });
    setNumThreads(threads);
    const a = run();
    for (const n of [1, 3]) {
      setNumThreads(n);
      const b = run();
      t.ok(bitsEqual(a.out, b.out) && bitsEqual(a.lse, b.lse), `Nq ${s.Nq}: ${n} thread(s) = ${threads}`);
    }
  }
});

t.test('bad input is refused with a named argument', async (t) => {
  const x = tensor(randomArray(2 * 3 * 4, 1), [1, 2, 3, 4], 'float32');
  const q8 = quantizeSync(x, { bits: 8 });
  const q4 = quantizeSync(x, { bits: 4, granularity: 'token' });
  const bad: [string, () => unknown, RegExp][] = [
    ['bits', () => quantizeSync(x, { bits: 3 as 8 }), /options\.bits must be 8 or 4, got 3/],
    ['granularity', () => quantizeSync(x, { granularity: 'row' as 'token' }), /options\.granularity must be 'block' or 'token'/],
    ['blockSize', () => quantizeSync(x, { blockSize: 0 }), /options\.blockSize/],
    ['scales shape', () => dequantizeSync({ ...q8, scales: Tensor.zeros('float32', [1, 2, 2]) }), /x\.scales\.shape\[2\] must be 1, got 2/],
    ['packed length', () => dequantizeSync({ ...q4, data: Tensor.zeros('uint8', [1, 2, 3, 4]) }), /x\.data\.shape\[3\] must be 2, got 4/],
    ['data dtype', () => dequantizeSync({ ...q4, data: Tensor.zeros('int8', [1, 2, 3, 2]) }), /x\.data\.dtype must be uint8/],
    ['x bits', () => dequantizeSync({ ...q8, bits: 5 as 8 }), /x\.bits must be 8 or 4, got 5/],
    ['qkBits', () => quantizedAttentionSync(x, x, x, { qkBits: 2 as 8 }), /options\.qkBits must be 8 or 4, got 2/],
    ['pv', () => quantizedAttentionSync(x, x, x, { pv: 'fp8' as 'fp16' }), /options\.pv must be 'bf16', 'fp16', 'fp32' or 'int8'/],
    ['k shape', () => quantizedAttentionSync(x, { ...q8, shape: [1, 2, 3, 5], data: Tensor.zeros('int8', [1, 2, 3, 5]) } as QuantizedTensor, x),
      /k\.shape\[3\] \(head dim\) must equal q\.shape\[3\] = 4, got 5/],
    ['smoothed v', () => quantizedAttentionSync(x, x, quantizeSync(x, { smooth: true })), /v must be quantized without smoothing/],
  ];
  for (const [what, f, msg] of bad) t.throws(f, { message: msg }, what);
  t.throws(() => quantizeSync(x, { bits: 3 as 8 }), RangeError);
  await t.rejects(quantize(x, { bits: 3 as 8 }), { message: /options\.bits/ }, 'async rejects');
  await t.rejects(quantizedAttention(x, x, x, { qkBits: 2 as 8 }), { message: /options\.qkBits/ }, 'async rejects');
});

t.test('quantizedAttention matches attention closely on smooth inputs', async (t) => {
  const s: Shape = { B: 1, Hq: 2, Hkv: 1, Nq: 50, Nk: 90, D: 32, Dv: 32 };
  const { q, k, v } = inputs(s, 41, 'float32');
  const args = [tensor(q, [1, 2, 50, 32], 'float32'), tensor(k, [1, 1, 90, 32], 'float32'), tensor(v, [1, 1, 90, 32], 'float32')] as const;
  const a = attentionSync(...args, { causal: true }), b = quantizedAttentionSync(...args, { causal: true });
  const acc = accuracy(b.data as Float32Array, a.data as Float32Array);
  t.ok(acc.cosine > 0.9995, `cos ${acc.cosine}`);
});

t.test('decode from int8/int4 K and V caches (read in place) on every SIMD path', async (t) => {
  const have = backendInfo().cpu.simd;
  const threads = backendInfo().cpu.threads;
  t.teardown(() => {
    setSimdLevel(have);
    setVectorWidth('auto');
    setNumThreads(threads);
  });
  type Case = [Shape, QOpts & { smoothK?: boolean }];
  const cases: Case[] = [
    [{ B: 1, Hq: 8, Hkv: 2, Nq: 1, Nk: 333, D: 128, Dv: 128 }, {}],                         // GQA 4, Nk not a block multiple
    [{ B: 2, Hq: 4, Hkv: 1, Nq: 2, Nk: 150, D: 33, Dv: 20 }, { causal: true }],             // 8 rows, odd head dims
    [{ B: 1, Hq: 4, Hkv: 2, Nq: 3, Nk: 200, D: 64, Dv: 48 }, { window: [40, 0], smoothQ: true }],
    [{ B: 1, Hq: 3, Hkv: 1, Nq: 1, Nk: 70, D: 7, Dv: 9 }, { softcap: 2.5, smoothK: false }],  // softcap: no q . km shift
    [{ B: 1, Hq: 4, Hkv: 1, Nq: 1, Nk: 1100, D: 96, Dv: 64 }, { window: [500, 5], scale: 0.2 }],
  ];
  const levels = (['avx512', 'avx2', 'scalar'] as const).filter((l) => l === 'scalar' || (l === 'avx2' ? have !== 'scalar' : have === 'avx512'));
  if (have !== 'avx512') t.comment(`avx512 path skipped: this CPU's SIMD level is ${have}`);
  let seed = 70;
  for (const [s, o] of cases)
    for (const bits of [8, 4] as const)
      for (const granularity of ['block', 'token'] as const) {
        const { q, k, v } = inputs(s, seed++, 'float32', 30);
        const smooth = o.smoothK ?? true, group = granularity === 'token' ? 1 : 64;
        const qt = tensor(q, [s.B, s.Hq, s.Nq, s.D], 'float32');
        const kq = quantizeSync(tensor(k, [s.B, s.Hkv, s.Nk, s.D], 'float32'), { bits, granularity, blockSize: 64, smooth });
        const vq = quantizeSync(tensor(v, [s.B, s.Hkv, s.Nk, s.Dv], 'float32'), { bits, granularity, blockSize: 64 });
        const opts = { ...o, qkBits: bits, granularity, returnLse: true } as const;
        const ref = quantizedAttentionRef(q, k, v, s, {
          ...opts,
          kq: { q: quantizeRef(k, s.B, s.Hkv, s.Nk, s.D, bits, group, smooth), group },
          vq: { q: quantizeRef(v, s.B, s.Hkv, s.Nk, s.Dv, bits, group, false), group },
        });
        const what = `${JSON.stringify({ ...s, ...o })} int${bits} ${granularity}`;
        let first: ReturnType<typeof quantizedAttentionSync> | undefined;
        for (const level of levels) {
          setSimdLevel(level);
          setVectorWidth(512);
          const r = quantizedAttentionSync(qt, kq, vq, opts);
          let err = 0, lerr = 0;
          const out = r.out.data as Float32Array, lse = r.lse.data as Float32Array;
          for (let i = 0; i < out.length; i++) err = Math.max(err, Math.abs(out[i] - ref.out[i]));
          for (let i = 0; i < lse.length; i++)
            lerr = Math.max(lerr, lse[i] === ref.lse[i] ? 0 : Math.abs(lse[i] - ref.lse[i]) / Math.max(1, Math.abs(ref.lse[i])));
          t.ok(err <= 2e-4 && lerr <= 1e-4, `${level} ${what}: max err ${err.toExponential(2)}, lse ${lerr.toExponential(2)}`);
          if (level === have && !first) {
            first = r;
            if (level === 'avx512') {
              setVectorWidth(256);
              const y = quantizedAttentionSync(qt, kq, vq, opts);
              t.ok(bitsEqual(r.out, y.out) && bitsEqual(r.lse, y.lse), `${what}: ymm = zmm`);
            }
            for (const n of [1, 3]) {
              setNumThreads(n);
              const b = quantizedAttentionSync(qt, kq, vq, opts);
              t.ok(bitsEqual(r.out, b.out) && bitsEqual(r.lse, b.lse), `${what}: ${n} thread(s) = ${threads}`);
            }
            setNumThreads(threads);
          }
        }
      }
});

// pv 'bf16' on the AVX512-BF16 P.V (vdpbf16ps, the bf16 attention path's kernels: P and V
// rounded to bf16 nearest even, fp32 sums) where bf16 attention runs it, and elsewhere P
// and V rounded and the fp32 P.V: the same semantics, each against the reference.
const startCpu = backendInfo().cpu;
const bf16Dot = startCpu.attentionBf16 === 'avx512-bf16';
interface PvPath { name: string; dot: boolean; select: () => void }
const pvPaths: PvPath[] = [
  ...(bf16Dot ? ([512, 256] as const).map((bits) => ({
    name: `avx512-bf16 P.V ${bits}-bit`, dot: true, select: () => { setSimdLevel('avx512'); setVectorWidth(bits); },
  })) : []),
  ...(['avx2', 'scalar'] as const).filter((l) => l === 'scalar' || startCpu.simd !== 'scalar').map((level) => ({
    name: `${level}: rounded P and V, fp32 P.V`, dot: false, select: () => void setSimdLevel(level),
  })),
];
const restorePv = () => {
  setSimdLevel(startCpu.simd);
  setVectorWidth('auto');
};
if (!bf16Dot) t.comment(`the AVX512-BF16 P.V is not run here: attentionBf16 is ${startCpu.attentionBf16}`);

for (const p of pvPaths)
  t.test(`pv bf16 against the quantized reference: shapes x options on the ${p.name} path`, async (t) => {
    t.teardown(restorePv);
    p.select();
    t.equal(backendInfo().cpu.attentionBf16, p.dot ? 'avx512-bf16' : 'fp32-widen', 'path in effect');
    const shapes: Shape[] = [
      { B: 2, Hq: 4, Hkv: 2, Nq: 17, Nk: 113, D: 64, Dv: 64 },    // GQA, odd key count
      { B: 1, Hq: 2, Hkv: 1, Nq: 113, Nk: 17, D: 80, Dv: 48 },    // Nq > Nk
      { B: 1, Hq: 3, Hkv: 3, Nq: 200, Nk: 201, D: 7, Dv: 9 },     // odd head dims
      { B: 1, Hq: 2, Hkv: 2, Nq: 70, Nk: 401, D: 33, Dv: 31 },    // several key blocks, odd edges
      { B: 1, Hq: 4, Hkv: 1, Nq: 2, Nk: 130, D: 33, Dv: 16 },     // decode: V rounded, P not
    ];
    for (const [s, o] of quantSweep(shapes, 100)) check(t, s, { pv: 'bf16', ...o });
    const s = shapes[3];
    check(t, s, { pv: 'bf16', softcap: 2.5, causal: true, seed: 120 });
    check(t, s, { pv: 'bf16', scale: 0.3, smoothK: false, window: [31, 7], seed: 121 });
    check(t, s, { pv: 'bf16', dtype: 'float16', seed: 122 });
    check(t, s, { pv: 'bf16', dtype: 'bfloat16', causal: true, seed: 123 });
  });

for (const p of pvPaths)
  t.test(`pv bf16 with block masks and pre-quantized V caches on the ${p.name} path`, async (t) => {
    t.teardown(restorePv);
    p.select();
    const bf = rounder('bfloat16');
    const maxErr = (a: Float32Array, b: ArrayLike<number>) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
    let seed = 140;
    for (const [s, Hm, block] of [
      [{ B: 1, Hq: 4, Hkv: 2, Nq: 200, Nk: 301, D: 32, Dv: 24 }, 4, 64],
      [{ B: 2, Hq: 4, Hkv: 2, Nq: 130, Nk: 131, D: 24, Dv: 16 }, 2, 64],
      [{ B: 1, Hq: 2, Hkv: 1, Nq: 256, Nk: 257, D: 64, Dv: 64 }, 1, 128],
    ] as [Shape, number, 64 | 128][]) {
      const nqb = Math.ceil(s.Nq / block), nkb = Math.ceil(s.Nk / block);
      const mask = randomBlockMask(s.B, Hm, nqb, nkb, 0.5, seed++);
      const { q, k, v } = inputs(s, seed, 'float32', 30);
      const o = { pv: 'bf16', granularity: 'token', causal: true, window: [121, 0], blockSize: block } as const;
      const r = quantizedAttentionSync(tensor(q, [s.B, s.Hq, s.Nq, s.D], 'float32'), tensor(k, [s.B, s.Hkv, s.Nk, s.D], 'float32'),
        tensor(v, [s.B, s.Hkv, s.Nk, s.Dv], 'float32'), { ...o, mask: new Tensor('uint8', mask, [s.B, Hm, nqb, nkb]), returnLse: true });
      const ref = quantizedAttentionRef(q, k, v, s, { ...o, roundV: bf, keep: blockKeep({ block, mask, Hm }, s.Hq, s.Nq, s.Nk) });
      const out = r.out.data as Float32Array, lse = r.lse.data as Float32Array;
      const lerr = lse.reduce((m, x, i) => Math.max(m, x === ref.lse[i] ? 0 : Math.abs(x - ref.lse[i])), 0);
      t.ok(out.some((x) => x !== 0), 'some rows see keys');
      t.ok(maxErr(out, ref.out) <= 2e-2 && lerr <= 1e-3, `mask Hm ${Hm} block ${block}: max err ${maxErr(out, ref.out).toExponential(2)}, lse ${lerr.toExponential(2)}`);
    }
    // int8 / int4 V caches (and K caches) as they are, the tiled path and decode.
    for (const [Nq, Hq] of [[64, 8], [1, 8]])
      for (const bits of [8, 4] as const) {
        const Hkv = 2, Nk = 333, D = 48, Dv = 40;
        const s: Shape = { B: 1, Hq, Hkv, Nq, Nk, D, Dv };
        const { q, k, v } = inputs(s, seed++, 'float32', 30);
        const kq = quantizeSync(tensor(k, [1, Hkv, Nk, D], 'float32'), { bits, granularity: 'block', blockSize: 64, smooth: true });
        const vq = quantizeSync(tensor(v, [1, Hkv, Nk, Dv], 'float32'), { bits, granularity: 'token' });
        const o = { pv: 'bf16', qkBits: bits, causal: Nq > 1, returnLse: true } as const;
        const r = quantizedAttentionSync(tensor(q, [1, Hq, Nq, D], 'float32'), kq, vq, o);
        const ref = quantizedAttentionRef(q, k, v, s, {
          ...o, roundV: bf, kq: { q: quantizeRef(k, 1, Hkv, Nk, D, bits, 64, true), group: 64 },
          vq: { q: quantizeRef(v, 1, Hkv, Nk, Dv, bits, 1, false), group: 1 },
        });
        const err = maxErr(r.out.data as Float32Array, ref.out);
        t.ok(err <= 2e-2, `Nq ${Nq} int${bits} K and V caches: max err ${err.toExponential(2)}`);
        // bf16 q and V with a quantized K: V is read in place.
        const qb = roundTo(q, 'bfloat16');
        const rb = quantizedAttentionSync(tensor(qb, [1, Hq, Nq, D], 'bfloat16'), kq, tensor(v, [1, Hkv, Nk, Dv], 'bfloat16'), o);
        const refb = quantizedAttentionRef(qb, k, roundTo(v, 'bfloat16'), s, {
          ...o, kq: { q: quantizeRef(k, 1, Hkv, Nk, D, bits, 64, true), group: 64 },
        });
        const errb = maxErr(Float32Array.from(rb.out.toFloat32()), refb.out);
        t.ok(errb <= 2e-2, `Nq ${Nq} int${bits} K cache, bf16 q and V: max err ${errb.toExponential(2)}`);
      }
  });

t.test('pv bf16 on AVX512-BF16: the same bits at both widths and any thread count; not the rounded fp32 P.V', { skip: !bf16Dot && 'no AVX512-BF16 P.V here' }, async (t) => {
  const threads = backendInfo().cpu.threads;
  t.teardown(() => {
    restorePv();
    setNumThreads(threads);
  });
  const s: Shape = { B: 2, Hq: 4, Hkv: 2, Nq: 150, Nk: 333, D: 72, Dv: 40 };
  const { q, k, v } = inputs(s, 160, 'float32', 30);
  const args = [tensor(q, [2, 4, 150, 72], 'float32'), tensor(k, [2, 2, 333, 72], 'float32'), tensor(v, [2, 2, 333, 40], 'float32')] as const;
  for (const o of [{ causal: true }, { qkBits: 4, granularity: 'token', smoothQ: true, window: [77, 3] }, { softcap: 4 }] as QOpts[]) {
    const opts = { ...o, pv: 'bf16', returnLse: true } as const;
    const results = [];
    for (const p of pvPaths.filter((x) => x.dot))
      for (const n of [1, 3, threads]) {
        p.select();
        setNumThreads(n);
        results.push(quantizedAttentionSync(...args, opts));
      }
    t.ok(results.every((r) => bitsEqual(r.out, results[0].out) && bitsEqual(r.lse, results[0].lse)),
      `${JSON.stringify(o)}: zmm = ymm at 1, 3 and ${threads} threads`);
    setSimdLevel('avx2');
    const widened = quantizedAttentionSync(...args, opts);
    t.notOk(bitsEqual(widened.out, results[0].out), `${JSON.stringify(o)}: the dot path ran (not the avx2 result)`);
  }
});

// pv 'bf16' decode shapes (at most 8 query rows per kv head) from int8 / int4 V caches run the
// integer decode kernel in the tiled path's steps, so they give the tiled path's bits on each
// path (the AVX512-BF16 P.V at both widths; the rounded fp32 P.V on AVX2 and scalar). The
// tiled path is forced on the same rows by prepending zero query rows (more than 8 rows per kv
// head): the causal mask is aligned to the last query, and with one Q block or per-token Q
// scales each original row computes what it computes alone. Each call is also checked
// against the fp64 reference (V rounded to bf16, P's rounding in the tolerance).
t.test('pv bf16 decode shapes from int8 / int4 V caches: the tiled path\'s bits and the reference, on every path', async (t) => {
  const threads = backendInfo().cpu.threads;
  t.teardown(() => {
    restorePv();
    setNumThreads(threads);
  });
  const bf = rounder('bfloat16');
  const shapes = quantDecodeShapes;
  const opts: QOpts[] = [{}, { causal: true }, { window: [100, 3] }, { softcap: 3 }, { granularity: 'token', causal: true, softcap: 2 },
    { qkBits: 4, granularity: 'token', window: [151, 0] }, { smoothK: false, scale: 0.2, causal: true, window: [61, 0] }];
  const maxErr = (a: Float32Array, b: ArrayLike<number>) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
  let seed = 900, calls = 0;
  for (const s of shapes)
    for (const o of opts)
      for (const cache of ['int8', 'int4'] as const) {
        const { B, Hq, Hkv, Nq, Nk, D, Dv } = s;
        const { q, k, v } = inputs(s, seed++, 'float32');
        const E = Math.ceil(9 / (Hq / Hkv)), Nt = Nq + E;  // the tiled call's rows: E zero rows first
        const qt = tiledRows(q, B * Hq, Nq, D, E);
        const bits = cache === 'int4' ? 4 : 8, granularity = cache === 'int4' ? 'block' : 'token';
        const kt = tensor(k, [B, Hkv, Nk, D], 'float32');
        const vArg = quantizeSync(tensor(v, [B, Hkv, Nk, Dv], 'float32'), { bits, granularity });
        const kArg = cache === 'int4' ? quantizeSync(kt, { bits: 4, granularity: 'token', smooth: o.smoothK ?? true }) : kt;
        const opt = { ...o, ...(cache === 'int4' ? { qkBits: 4 as const, granularity: 'token' as const } : {}), pv: 'bf16', returnLse: true } as const;
        const vGroup = granularity === 'token' ? 1 : 64;
        const ref = quantizedAttentionRef(q, k, v, s, {
          ...opt, roundV: bf, vq: { q: quantizeRef(v, B, Hkv, Nk, Dv, bits, vGroup, false), group: vGroup },
          ...(cache === 'int4' ? { kq: { q: quantizeRef(k, B, Hkv, Nk, D, 4, 1, o.smoothK ?? true), group: 1 } } : {}),
        });
        const what = `${JSON.stringify({ ...s, ...o })} ${cache} V cache`;
        let agree = true, worst = 0, worstLse = 0;
        for (const p of pvPaths) {
          restorePv();
          p.select();
          const dec = quantizedAttentionSync(tensor(q, [B, Hq, Nq, D], 'float32'), kArg, vArg, opt);
          const til = quantizedAttentionSync(tensor(qt, [B, Hq, Nt, D], 'float32'), kArg, vArg, opt);
          for (const r of headsOffTiled(dec, til, B * Hq, Nq, Dv, E)) {
            agree = false;
            t.fail(`${what} on ${p.name}: query head ${r} differs from the tiled path`);
          }
          worst = Math.max(worst, maxErr(f32(dec.out), ref.out));
          const lse = f32(dec.lse);
          for (let i = 0; i < lse.length; i++)
            worstLse = Math.max(worstLse, lse[i] === ref.lse[i] ? 0 : Math.abs(lse[i] - ref.lse[i]) / Math.max(1, Math.abs(ref.lse[i])));
          if (p === pvPaths[0] && calls++ % 9 === 0) {
            // One range per head: any thread count gives the same bits.
            setNumThreads(1);
            const one = quantizedAttentionSync(tensor(q, [B, Hq, Nq, D], 'float32'), kArg, vArg, opt);
            setNumThreads(threads);
            t.ok(bitsEqual(one.out, dec.out) && bitsEqual(one.lse, dec.lse), `${what}: 1 and ${threads} threads, same bits`);
          }
        }
        t.ok(agree, `${what}: ${pvPaths.map((p) => p.name).join(', ')}: the tiled path's bits`);
        t.ok(worst <= 2e-2 && worstLse <= 1e-4, `${what}: max |out - ref| ${worst.toExponential(2)} <= 2e-2, lse ${worstLse.toExponential(2)}`);
      }
  // V scales below the normal range: V' = +-127 with a subnormal scale dequantizes to just below
  // the smallest normal float, which the tiles' rounding (core/half.h) takes up to it and the
  // conversion instruction flushes to 0. One key, so P = 1 and the output is V itself.
  const c = new Float32Array(new Uint32Array([0x007fd000]).buffer)[0];
  const vq = quantizeSync(tensor(Float32Array.from({ length: 48 }, (_, i) => (i % 2 ? -c : c)), [1, 1, 1, 48], 'float32'), { bits: 8, granularity: 'token' });
  const q = gaussian(4 * 32, 991), kt = tensor(gaussian(32, 992), [1, 1, 1, 32], 'float32');
  const qt = new Float32Array(4 * 4 * 32);
  for (let r = 0; r < 4; r++) qt.set(q.subarray(r * 32, (r + 1) * 32), (r * 4 + 3) * 32);
  for (const p of pvPaths) {
    restorePv();
    p.select();
    const dec = f32(quantizedAttentionSync(tensor(q, [1, 4, 1, 32], 'float32'), kt, vq, { pv: 'bf16' }));
    const til = f32(quantizedAttentionSync(tensor(qt, [1, 4, 4, 32], 'float32'), kt, vq, { pv: 'bf16' }));
    const rows = Float32Array.from({ length: 4 * 48 }, (_, i) => til[(Math.floor(i / 48) * 4 + 3) * 48 + (i % 48)]);
    t.ok(vq.scales.data[0] < 2 ** -126 && dec.every((x, i) => Math.abs(x) === 2 ** -126 && Math.sign(x) === (i % 2 ? -1 : 1)) && sameBits(dec, rows),
      `subnormal V scale (${vq.scales.data[0].toExponential(2)}) on ${p.name}: V rounded up to 2^-126, the tiled path's bits`);
  }
});

t.test('SUBQ_BF16_DOT=0: pv bf16 rounds P and V for the fp32 P.V at the AVX-512 level', { skip: !bf16Dot && 'no AVX512-BF16 P.V here' }, async (t) => {
  const s: Shape = { B: 1, Hq: 2, Hkv: 1, Nq: 90, Nk: 150, D: 40, Dv: 24 };
  // The child draws the same inputs from the reference's generator.
  const [q, k, v] = [[2 * 90 * 40, 1], [150 * 40, 2], [150 * 24, 3]].map(([n, seed]) => gaussianRef(n, seed));
  const code = `
    const { gaussian } = require(${JSON.stringify(path.join(root, 'dist', 'reference', 'random.js'))});
    const t = (n, seed, sh) => s.Tensor.fromFloat32(gaussian(n, seed), sh);
    const r = s.quantizedAttentionSync(t(2 * 90 * 40, 1, [1, 2, 90, 40]), t(150 * 40, 2, [1, 1, 150, 40]), t(150 * 24, 3, [1, 1, 150, 24]),
      { pv: 'bf16', causal: true });
    const info = s.backendInfo().cpu;
    console.log(JSON.stringify({ path: info.attentionBf16, simd: info.simd, out: Array.from(r.data) }));
  `;
  const child = runChild(code, { env: { SUBQ_BF16_DOT: '0' } });
  t.equal(child.status, 0, describeChild(child));
  const got = JSON.parse(child.stdout) as { path: string; simd: string; out: number[] };
  t.same([got.path, got.simd], ['fp32-widen', 'avx512'], 'the widened path at avx512');
  const ref = quantizedAttentionRef(q, k, v, s, { causal: true, roundV: rounder('bfloat16') });
  const err = got.out.reduce((m, x, i) => Math.max(m, Math.abs(x - ref.out[i])), 0);
  t.ok(err <= 2e-2, `against the reference: max err ${err.toExponential(2)}`);
  const here = quantizedAttentionSync(tensor(q, [1, 2, 90, 40], 'float32'), tensor(k, [1, 1, 150, 40], 'float32'),
    tensor(v, [1, 1, 150, 24], 'float32'), { pv: 'bf16', causal: true }).data as Float32Array;
  t.notOk(here.every((x, i) => Object.is(x, got.out[i])), 'not the dot path\'s bits');
});

t.test('SUBQ_BF16_DOT=0: pv bf16 decode from int8 / int4 V caches gives the tiled path\'s bits at the AVX-512 level', { skip: !bf16Dot && 'no AVX512-BF16 P.V here' }, async (t) => {
  // In the child, decode (GQA 4, one token: 4 rows per kv head) against the tiled path on the
  // same rows (3 zero query rows first: 16 rows per kv head), both at the VNNI level with the
  // fp32 P.V of rounded P and V; and the reference.
  const code = `
    const { gaussian } = require(${JSON.stringify(path.join(root, 'dist', 'reference', 'random.js'))});
    const t = (a, sh) => s.Tensor.fromFloat32(a, sh);
    const q = gaussian(8 * 72, 1), k = gaussian(2 * 700 * 72, 2), v = gaussian(2 * 700 * 80, 3);
    const qt = new Float32Array(8 * 4 * 72);
    for (let r = 0; r < 8; r++) qt.set(q.subarray(r * 72, (r + 1) * 72), (r * 4 + 3) * 72);
    const res = [];
    for (const bits of [8, 4]) for (const o of [{}, { causal: true, softcap: 3 }, { window: [300, 0], granularity: 'token' }]) {
      const vq = s.quantizeSync(t(v, [1, 2, 700, 80]), { bits, granularity: bits === 8 ? 'token' : 'block' });
      const opt = { ...o, pv: 'bf16', returnLse: true };
      const dec = s.quantizedAttentionSync(t(q, [1, 8, 1, 72]), t(k, [1, 2, 700, 72]), vq, opt);
      const til = s.quantizedAttentionSync(t(qt, [1, 8, 4, 72]), t(k, [1, 2, 700, 72]), vq, opt);
      const bitsOf = (a) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
      const d = bitsOf(dec.out.data), tl = bitsOf(til.out.data), dl = bitsOf(dec.lse.data), tll = bitsOf(til.lse.data);
      let same = true;
      for (let r = 0; r < 8; r++) {
        for (let x = 0; x < 80; x++) same = same && d[r * 80 + x] === tl[(r * 4 + 3) * 80 + x];
        same = same && dl[r] === tll[r * 4 + 3];
      }
      res.push({ bits, o, same, out: Array.from(dec.out.data) });
    }
    const info = s.backendInfo().cpu;
    console.log(JSON.stringify({ path: info.attentionBf16, simd: info.simd, res }));
  `;
  const child = runChild(code, { env: { SUBQ_BF16_DOT: '0' } });
  t.equal(child.status, 0, describeChild(child));
  const got = JSON.parse(child.stdout) as { path: string; simd: string; res: { bits: 8 | 4; o: QOpts; same: boolean; out: number[] }[] };
  t.same([got.path, got.simd], ['fp32-widen', 'avx512'], 'the widened path at avx512');
  const s: Shape = { B: 1, Hq: 8, Hkv: 2, Nq: 1, Nk: 700, D: 72, Dv: 80 };
  const [q, k, v] = [[8 * 72, 1], [2 * 700 * 72, 2], [2 * 700 * 80, 3]].map(([n, seed]) => gaussianRef(n, seed));
  for (const r of got.res) {
    const group = r.bits === 8 ? 1 : 64;
    const ref = quantizedAttentionRef(q, k, v, s, { ...r.o, roundV: rounder('bfloat16'), vq: { q: quantizeRef(v, 1, 2, 700, 80, r.bits, group, false), group } });
    const err = r.out.reduce((m, x, i) => Math.max(m, Math.abs(x - ref.out[i])), 0);
    t.ok(r.same && err <= 2e-2, `int${r.bits} V cache ${JSON.stringify(r.o)}: the tiled path's bits; max err ${err.toExponential(2)}`);
  }
});
