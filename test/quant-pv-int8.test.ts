// quantizedAttention with pv 'int8' (docs/semantics.md, "Quantized attention"): V' int8 (or
// an int4 cache), P times each key's V scale quantized to u8 per query row and block of 64
// keys, integer P'.V'. Against its fp64 reference (reference/quant.ts, pvInt8) on every ISA,
// against unquantized fp64 attention (the accuracy bound), and the bit-level guarantees.
import t from 'tap';
import type { Test } from 'tap';
import {
  Tensor, backendInfo, setNumThreads, setSimdLevel, setVectorWidth, quantizeSync, quantizedAttentionSync, quantizedAttention,
  type FloatDType,
} from '../lib';
import { roundTo, tensor, bitsEqual, quantSweep, quantDecodeShapes, tiledRows, headsOffTiled } from './helpers';
import { attentionRef } from '../reference/attention';
import { quantizeRef, quantizedAttentionRef, accuracy, type QuantAttentionRefOptions } from '../reference/quant';
import { blockKeep, randomBlockMask } from '../reference/sparse';
import { gaussian } from '../reference/random';

interface Shape { B: number; Hq: number; Hkv: number; Nq: number; Nk: number; D: number; Dv: number }
type QOpts = Parameters<typeof quantizedAttentionSync>[3] & object;

// The kernels' P' comes from fp32 P (its exp2 an ulp or so from exp) and fp32 products, so a
// value within a few ulp of a half may round the other way: one unit of P' on one key,
// (max P of its block / 255) * |v|, which Gaussian inputs (no K outliers: flat rows) keep
// small. Far below the error of leaving P unquantized (checked).
const TOL = 1e-3;

function inputs(s: Shape, seed: number, dtype: FloatDType = 'float32', outlier = 0) {
  const q = roundTo(gaussian(s.B * s.Hq * s.Nq * s.D, seed), dtype);
  const k = gaussian(s.B * s.Hkv * s.Nk * s.D, seed + 1);
  if (outlier) for (let i = 0; i < k.length; i += s.D) for (const c of [1, 5, 11]) if (c < s.D) k[i + c] += outlier;
  const v = roundTo(gaussian(s.B * s.Hkv * s.Nk * s.Dv, seed + 2), dtype);
  return { q, k: roundTo(k, dtype), v };
}

const maxErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const lseErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, a[i] === b[i] ? 0 : Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
};

// One call against the reference; returns the error.
function check(t: Test, s: Shape, o: QOpts & { dtype?: FloatDType; seed?: number }, ref: QuantAttentionRefOptions = {}) {
  const dtype = o.dtype ?? 'float32';
  const { q, k, v } = inputs(s, o.seed ?? 1, dtype);
  const { dtype: _d, seed: _s, ...opts } = o;
  const r = quantizedAttentionSync(tensor(q, [s.B, s.Hq, s.Nq, s.D], dtype), tensor(k, [s.B, s.Hkv, s.Nk, s.D], dtype),
    tensor(v, [s.B, s.Hkv, s.Nk, s.Dv], dtype), { ...opts, pv: 'int8', returnLse: true });
  const want = quantizedAttentionRef(q, k, v, s, { ...opts, ...ref, pvInt8: true });
  const out = Float32Array.from(r.out.dtype === 'float32' ? (r.out.data as Float32Array) : r.out.toFloat32());
  // The output dtype's rounding on top (fp16 / bf16 inputs write fp16 / bf16).
  const tol = TOL + (dtype === 'bfloat16' ? 2e-2 : dtype === 'float16' ? 3e-3 : 0);
  const err = maxErr(out, want.out), lerr = lseErr(r.lse.data as Float32Array, want.lse);
  t.ok(err <= tol && lerr <= 1e-4, `${JSON.stringify({ ...s, ...o })}: max |out - ref| ${err.toExponential(2)} <= ${tol}, lse ${lerr.toExponential(2)}`);
  return { err, q, k, v, out };
}

const shapes: Shape[] = [
  { B: 1, Hq: 1, Hkv: 1, Nq: 1, Nk: 1, D: 16, Dv: 16 },
  { B: 2, Hq: 4, Hkv: 2, Nq: 17, Nk: 113, D: 64, Dv: 64 },    // GQA, odd key count
  { B: 1, Hq: 2, Hkv: 1, Nq: 113, Nk: 17, D: 80, Dv: 48 },    // Nq > Nk
  { B: 1, Hq: 3, Hkv: 3, Nq: 200, Nk: 201, D: 7, Dv: 9 },     // odd head dims
  { B: 1, Hq: 2, Hkv: 2, Nq: 70, Nk: 401, D: 33, Dv: 31 },    // several key blocks, odd edges
  { B: 1, Hq: 8, Hkv: 2, Nq: 1, Nk: 300, D: 128, Dv: 128 },   // decode shape (GQA)
  { B: 1, Hq: 4, Hkv: 1, Nq: 2, Nk: 130, D: 33, Dv: 16 },     // decode shape, odd head dim
];

function sweep(t: Test, seed0: number) {
  // Windows whose edges cut P's 64-key blocks.
  for (const [s, o] of quantSweep(shapes, seed0)) check(t, s, o);
  const s = shapes[4];
  check(t, s, { softcap: 2.5, causal: true, seed: seed0 + 50 });
  check(t, shapes[5], { softcap: 2.5, seed: seed0 + 51 });
  check(t, s, { scale: 0.3, smoothK: false, window: [31, 7], seed: seed0 + 52 });
  check(t, s, { dtype: 'float16', seed: seed0 + 53 });
  check(t, s, { dtype: 'bfloat16', causal: true, seed: seed0 + 54 });
}

const start = backendInfo().cpu;
const restore = () => {
  setSimdLevel(start.simd);
  setVectorWidth('auto');
};

t.test('pv int8 against its reference: shapes x options', async (t) => {
  sweep(t, 1);
  // The reference's P rounding is what is matched: leaving P unquantized is measurably off.
  const s = shapes[4];
  const { err, q, k, v, out } = check(t, s, { causal: true, seed: 60 });
  const vq = { q: quantizeRef(v, s.B, s.Hkv, s.Nk, s.Dv, 8, 64, false), group: 64 };
  const plain = maxErr(out, quantizedAttentionRef(q, k, v, s, { causal: true, vq }).out);
  t.ok(plain > 2 * TOL && plain > 10 * err, `unquantized P: ${plain.toExponential(2)} > 2 * ${TOL} and 10x ${err.toExponential(2)}`);
});

for (const level of ['avx2', 'scalar'] as const)
  t.test(`pv int8 against its reference on the ${level} path`, { skip: level === 'avx2' && start.simd === 'scalar' && 'no AVX2 here' }, async (t) => {
    t.teardown(restore);
    setSimdLevel(level);
    t.equal(backendInfo().cpu.simd, level, 'level in effect');
    sweep(t, 200);
  });

t.test('pv int8: block masks', async (t) => {
  let seed = 300;
  for (const [s, Hm, block] of [
    [{ B: 1, Hq: 4, Hkv: 2, Nq: 200, Nk: 301, D: 32, Dv: 24 }, 4, 64],   // one head per tile
    [{ B: 2, Hq: 4, Hkv: 2, Nq: 130, Nk: 131, D: 24, Dv: 16 }, 2, 64],   // packed GQA tiles
    [{ B: 1, Hq: 2, Hkv: 1, Nq: 256, Nk: 257, D: 64, Dv: 64 }, 1, 128],  // two P blocks per key block
  ] as [Shape, number, 64 | 128][])
    for (const qkBits of [8, 4] as const) {
      const nqb = Math.ceil(s.Nq / block), nkb = Math.ceil(s.Nk / block);
      const mask = randomBlockMask(s.B, Hm, nqb, nkb, 0.5, seed++);
      const { q, k, v } = inputs(s, seed);
      const o = { qkBits, granularity: 'token', smoothQ: qkBits === 4, causal: qkBits === 4, window: [121, 0], blockSize: block } as const;
      const r = quantizedAttentionSync(tensor(q, [s.B, s.Hq, s.Nq, s.D], 'float32'), tensor(k, [s.B, s.Hkv, s.Nk, s.D], 'float32'),
        tensor(v, [s.B, s.Hkv, s.Nk, s.Dv], 'float32'), { ...o, pv: 'int8', mask: new Tensor('uint8', mask, [s.B, Hm, nqb, nkb]), returnLse: true });
      const ref = quantizedAttentionRef(q, k, v, s, { ...o, pvInt8: true, keep: blockKeep({ block, mask, Hm }, s.Hq, s.Nq, s.Nk) });
      const out = r.out.data as Float32Array;
      t.ok(out.some((x) => x !== 0), 'some rows see keys');
      const err = maxErr(out, ref.out), lerr = lseErr(r.lse.data as Float32Array, ref.lse);
      t.ok(err <= TOL && lerr <= 1e-3, `Hm ${Hm} block ${block} int${qkBits}: max err ${err.toExponential(2)}, lse ${lerr.toExponential(2)}`);
    }
});

t.test('pv int8: int8 and int4 V caches; a cache = quantizing in the call', async (t) => {
  let seed = 400;
  for (const [Nq, Hq] of [[64, 8], [1, 8], [3, 4]])
    for (const bits of [8, 4] as const)
      for (const granularity of ['block', 'token'] as const) {
        const Hkv = 2, Nk = 333, D = 48, Dv = 40, group = granularity === 'token' ? 1 : 64;
        const s: Shape = { B: 1, Hq, Hkv, Nq, Nk, D, Dv };
        const { q, k, v } = inputs(s, seed++);
        const qt = tensor(q, [1, Hq, Nq, D], 'float32'), kt = tensor(k, [1, Hkv, Nk, D], 'float32'), vt = tensor(v, [1, Hkv, Nk, Dv], 'float32');
        const kq = quantizeSync(kt, { bits, granularity, blockSize: 64, smooth: true });
        const vq = quantizeSync(vt, { bits, granularity: 'token' });
        const o = { pv: 'int8', qkBits: bits, granularity, causal: Nq > 1, returnLse: true } as const;
        const what = `Nq ${Nq} int${bits} ${granularity}`;
        const r = quantizedAttentionSync(qt, kq, vq, o);
        const ref = quantizedAttentionRef(q, k, v, s, {
          ...o, pvInt8: true, kq: { q: quantizeRef(k, 1, Hkv, Nk, D, bits, group, true), group },
          vq: { q: quantizeRef(v, 1, Hkv, Nk, Dv, bits, 1, false), group: 1 },
        });
        const err = maxErr(r.out.data as Float32Array, ref.out);
        t.ok(err <= TOL, `${what}: int${bits} K and V caches, max err ${err.toExponential(2)}`);
        // V quantized in the call is quantize(v, { bits: 8, granularity, blockSize: 64 }).
        const inCall = quantizedAttentionSync(qt, kt, vt, o);
        const cached = quantizedAttentionSync(qt, kq, quantizeSync(vt, { bits: 8, granularity, blockSize: 64 }), o);
        const kOnly = quantizedAttentionSync(qt, kq, vt, o);
        t.ok(bitsEqual(inCall.out, cached.out) && bitsEqual(inCall.lse, cached.lse) && bitsEqual(kOnly.out, cached.out),
          `${what}: V cache = V quantized in the call, same bits`);
        const asy = await quantizedAttention(qt, kq, vq, o);
        t.ok(bitsEqual(asy.out, r.out), `${what}: async = sync`);
      }
});

t.test('pv int8: the same bits at both vector widths and any thread count', async (t) => {
  const threads = start.threads;
  t.teardown(() => {
    restore();
    setNumThreads(threads);
  });
  const s: Shape = { B: 2, Hq: 4, Hkv: 2, Nq: 150, Nk: 333, D: 72, Dv: 40 };
  const { q, k, v } = inputs(s, 500, 'float32', 30);
  const args = [tensor(q, [2, 4, 150, 72], 'float32'), tensor(k, [2, 2, 333, 72], 'float32'), tensor(v, [2, 2, 333, 40], 'float32')] as const;
  const widths = start.simd === 'avx512' ? [512, 256] as const : ['auto'] as const;
  if (start.simd === 'avx512' && !start.features.avx512vnni) t.comment('VNNI path skipped: this CPU has no AVX512-VNNI');
  for (const o of [{ causal: true }, { qkBits: 4, granularity: 'token', smoothQ: true, window: [77, 3] }, { softcap: 4 }] as QOpts[]) {
    const opts = { ...o, pv: 'int8', returnLse: true } as const;
    const results = [];
    for (const w of widths)
      for (const n of [1, 3, threads]) {
        setVectorWidth(w);
        setNumThreads(n);
        results.push(quantizedAttentionSync(...args, opts));
      }
    t.ok(results.every((r) => bitsEqual(r.out, results[0].out) && bitsEqual(r.lse, results[0].lse)),
      `${JSON.stringify(o)}: widths ${widths.join(', ')} at 1, 3 and ${threads} threads, same bits`);
  }
});

// Decode shapes (at most 8 query rows per kv head: tokens x GQA group) run the integer decode
// kernel in the tiled path's steps, so they give the tiled path's bits on each ISA. The tiled
// path is forced on the same rows by prepending zero query rows (more than 8 rows per kv
// head): the causal mask is aligned to the last query, and with one Q block (whose max the
// zero rows leave alone) or per-token Q scales and no Q smoothing, each original row
// computes what it computes alone. Each call is also checked against the fp64 reference.
t.test('pv int8 decode shapes: the tiled path\'s bits and the reference, on every ISA', async (t) => {
  const threads = start.threads;
  t.teardown(() => {
    restore();
    setNumThreads(threads);
  });
  const levels: [string, () => void][] = [];
  if (start.simd === 'avx512') levels.push(['avx512 zmm', () => setVectorWidth(512)], ['avx512 ymm', () => setVectorWidth(256)]);
  if (start.simd !== 'scalar') levels.push(['avx2', () => setSimdLevel('avx2')]);
  levels.push(['scalar', () => setSimdLevel('scalar')]);
  const decodeShapes = quantDecodeShapes;
  const opts: QOpts[] = [{}, { causal: true }, { window: [100, 3] }, { softcap: 3 }, { granularity: 'token', causal: true, softcap: 2 },
    { qkBits: 4, granularity: 'token', window: [150, 0] }, { smoothK: false, scale: 0.2, causal: true, window: [60, 0] }];
  const f32 = (x: Tensor) => x.data as Float32Array;
  let seed = 700, calls = 0;
  for (const s of decodeShapes)
    for (const o of opts)
      for (const cache of ['none', 'int8', 'int4'] as const) {
        const { B, Hq, Hkv, Nq, Nk, D, Dv } = s;
        const { q, k, v } = inputs(s, seed++);
        const E = Math.ceil(9 / (Hq / Hkv)), Nt = Nq + E;  // the tiled call's rows: E zero rows first
        const qt = tiledRows(q, B * Hq, Nq, D, E);
        const kt = tensor(k, [B, Hkv, Nk, D], 'float32'), vt = tensor(v, [B, Hkv, Nk, Dv], 'float32');
        const bits = cache === 'int4' ? 4 : 8, granularity = cache === 'int4' ? 'block' : 'token';
        // A cached V (and, for int4, a cached K as well).
        const vArg = cache === 'none' ? vt : quantizeSync(vt, { bits, granularity });
        const kArg = cache === 'int4' ? quantizeSync(kt, { bits: 4, granularity: 'token', smooth: o.smoothK ?? true }) : kt;
        const opt = { ...o, ...(cache === 'int4' ? { qkBits: 4 as const, granularity: 'token' as const } : {}), pv: 'int8', returnLse: true } as const;
        const vGroup = granularity === 'token' ? 1 : 64;
        const ref = quantizedAttentionRef(q, k, v, s, {
          ...opt, pvInt8: true,
          ...(cache === 'none' ? {} : { vq: { q: quantizeRef(v, B, Hkv, Nk, Dv, bits, vGroup, false), group: vGroup } }),
          ...(cache === 'int4' ? { kq: { q: quantizeRef(k, B, Hkv, Nk, D, 4, 1, o.smoothK ?? true), group: 1 } } : {}),
        });
        const what = `${JSON.stringify({ ...s, ...o })} ${cache} V cache`;
        let agree = true, worst = 0, worstLse = 0;
        for (const [name, select] of levels) {
          restore();
          select();
          const dec = quantizedAttentionSync(tensor(q, [B, Hq, Nq, D], 'float32'), kArg, vArg, opt);
          const til = quantizedAttentionSync(tensor(qt, [B, Hq, Nt, D], 'float32'), kArg, vArg, opt);
          for (const r of headsOffTiled(dec, til, B * Hq, Nq, Dv, E)) {
            agree = false;
            t.fail(`${what} on ${name}: query head ${r} differs from the tiled path`);
          }
          worst = Math.max(worst, maxErr(f32(dec.out), ref.out));
          worstLse = Math.max(worstLse, lseErr(f32(dec.lse), ref.lse));
          if (name === levels[0][0] && calls++ % 9 === 0) {
            // One range per head: any thread count gives the same bits.
            setNumThreads(1);
            const one = quantizedAttentionSync(tensor(q, [B, Hq, Nq, D], 'float32'), kArg, vArg, opt);
            setNumThreads(threads);
            t.ok(bitsEqual(one.out, dec.out) && bitsEqual(one.lse, dec.lse), `${what}: 1 and ${threads} threads, same bits`);
          }
        }
        t.ok(agree, `${what}: ${levels.map(([n]) => n).join(', ')}: the tiled path's bits`);
        t.ok(worst <= TOL && worstLse <= 1e-4, `${what}: max |out - ref| ${worst.toExponential(2)} <= ${TOL}, lse ${worstLse.toExponential(2)}`);
      }
});

// The integer P.V of every ISA from the same P: with q = 0 every visible score is 0 and P is
// exactly 1 on every ISA (exp2(0)), so P' = round(255 * s_v(j) / max s_v) comes from the V
// scales alone (per token: a different one per key) and the output from the integer sums:
// VNNI zmm and ymm, AVX2 (vpmaddubsw on split bytes) and scalar must give the same bits.
t.test('pv int8: the integer P.V gives the same bits on every ISA', async (t) => {
  t.teardown(restore);
  const s: Shape = { B: 1, Hq: 4, Hkv: 2, Nq: 77, Nk: 401, D: 40, Dv: 72 };
  const { k, v } = inputs(s, 600);
  const q = new Float32Array(s.B * s.Hq * s.Nq * s.D);
  const vq = quantizeSync(tensor(v, [1, 2, 401, 72], 'float32'), { bits: 8, granularity: 'token' });
  const args = [tensor(q, [1, 4, 77, 40], 'float32'), tensor(k, [1, 2, 401, 40], 'float32'), vq] as const;
  const levels: [string, () => void][] = [];
  if (start.simd === 'avx512') levels.push(['avx512 zmm', () => setVectorWidth(512)], ['avx512 ymm', () => setVectorWidth(256)]);
  if (start.simd !== 'scalar') levels.push(['avx2', () => setSimdLevel('avx2')]);
  levels.push(['scalar', () => setSimdLevel('scalar')]);
  for (const o of [{ causal: true }, { window: [100, 3] }, {}] as QOpts[]) {
    const results = levels.map(([, select]) => {
      restore();
      select();
      return quantizedAttentionSync(...args, { ...o, pv: 'int8' });
    });
    const out = results[0].data as Float32Array;
    // Not a trivial output: P' varies with the V scales, and it is not the pv fp32 result.
    const fp32 = quantizedAttentionSync(...args, o).data as Float32Array;
    t.ok(out.some((x) => x !== 0) && maxErr(out, fp32) > 1e-4, `${JSON.stringify(o)}: P' is not all 255 (differs from pv fp32 by ${maxErr(out, fp32).toExponential(2)})`);
    t.ok(results.every((r) => bitsEqual(r, results[0])), `${JSON.stringify(o)}: ${levels.map(([n]) => n).join(', ')}: same bits`);
  }
});

// Accuracy against unquantized fp64 attention (256 tokens, D 64, Gaussian, with and without
// +30 on three K channels), the bound docs/semantics.md states.
t.test('pv int8: accuracy against unquantized fp64 attention', async (t) => {
  const s: Shape = { B: 1, Hq: 2, Hkv: 2, Nq: 256, Nk: 256, D: 64, Dv: 64 };
  const run = (outlier: number, o: QOpts, seed = 21) => {
    const { q, k, v } = inputs(s, seed, 'float32', outlier);
    const r = quantizedAttentionSync(tensor(q, [1, 2, 256, 64], 'float32'), tensor(k, [1, 2, 256, 64], 'float32'),
      tensor(v, [1, 2, 256, 64], 'float32'), o) as Tensor;
    return accuracy(r.data as Float32Array, attentionRef(q, k, v, s, {}).out);
  };
  for (const outlier of [0, 30])
    for (const granularity of ['block', 'token'] as const) {
      const a = run(outlier, { granularity, pv: 'int8' });
      t.ok(a.cosine >= 0.9995 && a.relL1 <= 0.02, `INT8 pv int8 ${granularity} outlier ${outlier}: cos ${a.cosine.toFixed(5)} relL1 ${a.relL1.toFixed(4)}`);
      const b = run(outlier, { granularity });
      t.comment(`  (pv fp32: cos ${b.cosine.toFixed(5)} relL1 ${b.relL1.toFixed(4)})`);
    }
  const a4 = run(0, { qkBits: 4, granularity: 'token', smoothQ: true, pv: 'int8' });
  t.ok(a4.cosine >= 0.98, `INT4 token smoothQ pv int8: cos ${a4.cosine.toFixed(4)} relL1 ${a4.relL1.toFixed(4)}`);
});

t.test('pv int8: bad input', async (t) => {
  const x = tensor(gaussian(24, 1), [1, 2, 3, 4], 'float32');
  t.throws(() => quantizedAttentionSync(x, x, x, { pv: 'int4' as 'int8' }), { name: 'RangeError', message: /options\.pv must be 'bf16', 'fp16', 'fp32' or 'int8', got 'int4'/ });
  t.throws(() => quantizedAttentionSync(x, x, quantizeSync(x, { smooth: true }), { pv: 'int8' }), { name: 'TypeError', message: /v must be quantized without smoothing/ });
});
