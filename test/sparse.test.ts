// blockSparseAttention on the CPU against the fp64 reference with the block mask expanded
// to elements: densities, odd lengths, Nq != Nk, causal and window on top, GQA with
// per-head, per-group and shared masks, both block sizes and mask forms, every dtype,
// head modes; dense equivalence; bad input.
import t from 'tap';
import {
  attentionSync, blockMaskToIndices, blockSparseAttention, blockSparseAttentionSync, indicesToBlockMask, Tensor,
  type FloatDType,
} from '../lib';
import { checkCase, type Case } from './attention-check';
import { maxAbs, maxAbsDiff, randomArray } from './helpers';
import { randomBlockMask } from '../reference/sparse';

const blocks = (n: number, bs: number) => Math.ceil(n / bs);

function maskCase(c: Omit<Case, 'sparse'>, block: 64 | 128, density: number, Hm: number, seed: number, form: 'mask' | 'indices' = 'mask'): Case {
  const mask = randomBlockMask(c.B ?? 1, Hm, blocks(c.Nq, block), blocks(c.Nk, block), density, seed);
  return { ...c, sparse: { block, mask, Hm, form } };
}

t.test('densities, odd lengths, Nq != Nk, both block sizes (fp32)', async (t) => {
  let seed = 1;
  for (const [Nq, Nk] of [[113, 113], [1023, 1030], [130, 1030], [1030, 300], [1, 700]] as [number, number][])
    for (const block of [64, 128] as const)
      for (const density of [0, 0.05, 0.3, 1])
        await checkCase(t, maskCase({ Hq: 2, Hkv: 1, Nq, Nk, D: 32, seed }, block, density, 2, seed++));
});

t.test('causal, window and softcap on top of the mask', async (t) => {
  let seed = 100;
  for (const [Nq, Nk] of [[300, 300], [200, 520]] as [number, number][])
    for (const opts of [{ causal: true }, { window: [90, 40] as [number, number] }, { causal: true, window: [150, 0] as [number, number] }, { softcap: 2.5 }])
      await checkCase(t, maskCase({ Hq: 4, Hkv: 2, Nq, Nk, D: 48, ...opts, seed }, 64, 0.5, 4, seed++));
});

t.test('GQA: a mask per query head, per kv head, and one for all heads; both forms', async (t) => {
  let seed = 200;
  for (const [Hq, Hkv] of [[8, 2], [6, 3], [4, 1]] as [number, number][])
    for (const Hm of [Hq, Hkv, 1])
      for (const form of ['mask', 'indices'] as const)
        await checkCase(t, maskCase({ B: 2, Hq, Hkv, Nq: 260, Nk: 333, D: 32, causal: seed % 2 === 0, seed }, 64, 0.4, Hm, seed++, form));
});

// More tiles per head than one group of the tile driver holds (48; 64-query tiles), so a
// head runs as several groups, each walking the union of its tiles' lists key-block major.
t.test('many tiles per head: several groups per head, lists of every length', async (t) => {
  let seed = 250;
  for (const opts of [{}, { causal: true }, { window: [700, 300] as [number, number] }])
    await checkCase(t, maskCase({ Hq: 2, Hkv: 1, Nq: 3500, Nk: 3300, D: 16, ...opts, seed }, 64, 0.3, 2, seed++));
});

t.test('every dtype and layout, sync and async', async (t) => {
  let seed = 300;
  for (const dtype of ['float32', 'float16', 'bfloat16'] as FloatDType[])
    for (const layout of ['bhnd', 'bnhd'] as const)
      await checkCase(t, maskCase({ Hq: 4, Hkv: 2, Nq: 257, Nk: 390, D: 64, dtype, layout, causal: true, async: layout === 'bnhd', seed }, 128, 0.5, 2, seed++));
});

t.test('head modes: dense, streaming and masked heads in one call', async (t) => {
  let seed = 400;
  const modes = [['dense', 'streaming', 'masked', 'streaming'], ['streaming', 'streaming', 'streaming', 'streaming'], ['masked', 'dense', 'dense', 'masked']] as const;
  for (const headModes of modes)
    for (const [Nq, Nk] of [[700, 700], [300, 900]] as [number, number][])
      for (const causal of [true, false]) {
        const Hq = 4, block = 64;
        const needsMask = (headModes as readonly string[]).includes('masked');
        const mask = needsMask ? randomBlockMask(1, Hq, blocks(Nq, block), blocks(Nk, block), 0.3, seed) : undefined;
        await checkCase(t, { Hq, Hkv: 2, Nq, Nk, D: 32, causal, seed: seed++, sparse: { block, mask, Hm: Hq, headModes: [...headModes], sinkBlocks: 1, localBlocks: 3 } });
      }
});

t.test('an all-ones mask gives dense attention; an all-dense head mode too', async (t) => {
  const [B, Hq, Hkv, Nq, Nk, D] = [1, 4, 2, 333, 517, 64];
  const q = Tensor.fromFloat32(randomArray(B * Hq * Nq * D, 1), [B, Hq, Nq, D]);
  const k = Tensor.fromFloat32(randomArray(B * Hkv * Nk * D, 2), [B, Hkv, Nk, D]);
  const v = Tensor.fromFloat32(randomArray(B * Hkv * Nk * D, 3), [B, Hkv, Nk, D]);
  for (const causal of [false, true]) {
    const dense = attentionSync(q, k, v, { causal }).toFloat32();
    for (const block of [64, 128] as const) {
      const ones = new Tensor('uint8', new Uint8Array(blocks(Nq, block) * blocks(Nk, block)).fill(1), [1, 1, blocks(Nq, block), blocks(Nk, block)]);
      const s = blockSparseAttentionSync(q, k, v, ones, { causal, blockSize: block }).toFloat32();
      t.ok(maxAbsDiff(s, dense) <= 2e-6, `causal ${causal} block ${block}: all-ones mask matches dense (${maxAbsDiff(s, dense).toExponential(2)})`);
      const d = blockSparseAttentionSync(q, k, v, null, { causal, blockSize: block, headModes: ['dense', 'dense', 'dense', 'dense'] }).toFloat32();
      t.same(d, s, `causal ${causal} block ${block}: dense head modes equal the all-ones mask bit for bit`);
    }
  }
});

t.test('results do not depend on the mask form or the call form', async (t) => {
  const [Hq, Nq, Nk, D] = [4, 400, 400, 32];
  const q = Tensor.fromFloat32(randomArray(Hq * Nq * D, 5), [1, Hq, Nq, D]);
  const k = Tensor.fromFloat32(randomArray(Hq * Nk * D, 6), [1, Hq, Nk, D]);
  const mask = new Tensor('uint8', randomBlockMask(1, Hq, 7, 7, 0.3, 9), [1, Hq, 7, 7]);
  const a = blockSparseAttentionSync(q, k, k, mask, { blockSize: 64 }).toFloat32();
  const ix = blockMaskToIndices(mask);
  const b = (await blockSparseAttention(q, k, k, ix, { blockSize: 64 })).toFloat32();
  t.same(a, b, 'uint8 mask (sync) and compact form (async) agree bit for bit');
  t.same(indicesToBlockMask(ix, 7).data, mask.data, 'indicesToBlockMask inverts blockMaskToIndices');
});

t.test('bad input is refused, naming the argument', async (t) => {
  const q = Tensor.fromFloat32(randomArray(2 * 200 * 16, 1), [1, 2, 200, 16]);
  const out = Tensor.zeros('float32', [1, 2, 200, 16]);
  const nqb = blocks(200, 64);
  const ones = (shape: number[]) => new Tensor('uint8', new Uint8Array(shape.reduce((a, b) => a * b, 1)).fill(1), shape);
  const idx = (rows: number[][], maxK: number) => {
    const indices = new Int32Array(2 * nqb * maxK), counts = new Int32Array(2 * nqb);
    rows.forEach((r, i) => {
      counts[i] = r.length;
      r.forEach((x, j) => (indices[i * maxK + j] = x));
    });
    return { indices: new Tensor('int32', indices, [1, 2, nqb, maxK]), counts: new Tensor('int32', counts, [1, 2, nqb]) };
  };
  const cases: [string, () => unknown, RegExp, ErrorConstructor][] = [
    ['mask shape', () => blockSparseAttentionSync(q, q, q, ones([1, 2, nqb, 3]), { blockSize: 64, out }), /mask\.shape\[3\] \(key blocks\) must equal ceil\(Nk \/ blockSize\) = 4, got 3/, RangeError],
    ['mask query blocks', () => blockSparseAttentionSync(q, q, q, ones([1, 2, 2, 4]), { blockSize: 64, out }), /mask\.shape\[2\] \(query blocks\) must equal ceil\(Nq \/ blockSize\) = 4, got 2/, RangeError],
    ['mask heads', () => blockSparseAttentionSync(q, q, q, ones([1, 3, nqb, 4]), { blockSize: 64, out }), /mask heads/, RangeError],
    ['mask dtype', () => blockSparseAttentionSync(q, q, q, new Tensor('int32', new Int32Array(2 * nqb * 4), [1, 2, nqb, 4]), { blockSize: 64, out }), /mask\.dtype/, TypeError],
    ['block size', () => blockSparseAttentionSync(q, q, q, ones([1, 2, 1, 1]), { blockSize: 32 as 64, out }), /options\.blockSize/, RangeError],
    ['out of range', () => blockSparseAttentionSync(q, q, q, idx([[0, 4]], 2), { blockSize: 64, out }), /mask\.indices\[0, 0, 0\]\[1\] must be a key block in \[0, 4\)/, RangeError],
    ['unsorted', () => blockSparseAttentionSync(q, q, q, idx([[2, 1]], 2), { blockSize: 64, out }), /strictly ascending/, RangeError],
    ['count above maxK', () => { const m = idx([[0]], 1); (m.counts.data as Int32Array)[3] = 2; return blockSparseAttentionSync(q, q, q, m, { blockSize: 64, out }); }, /mask\.counts\[0, 0, 3\] must be in \[0, 1\]/, RangeError],
    ['no mask for masked heads', () => blockSparseAttentionSync(q, q, q, null, { blockSize: 64, out }), /mask is required/, TypeError],
    ['bad head mode', () => blockSparseAttentionSync(q, q, q, null, { headModes: ['dense', 'sparse' as 'dense'], out }), /options\.headModes\[1\]/, TypeError],
    ['head modes length', () => blockSparseAttentionSync(q, q, q, null, { headModes: ['dense'], out }), /options\.headModes\.shape\[0\]/, RangeError],
    ['negative sink', () => blockSparseAttentionSync(q, q, q, null, { headModes: ['streaming', 'dense'], sinkBlocks: -1, out }), /options\.sinkBlocks/, RangeError],
  ];
  for (const [what, f, msg, cls] of cases) {
    out.data.fill(7);
    t.throws(f, { name: cls.name, message: msg }, what);
    t.ok((out.data as Float32Array).every((x) => x === 7), `${what}: nothing written`);
  }
  await t.rejects(blockSparseAttention(q, q, q, ones([1, 2, nqb, 3]), { blockSize: 64 }), RangeError, 'the async twin rejects');
});

t.test('xattention: scores, selection and block-sparse attention in one call', async (t) => {
  const { xattention, xattentionScoresSync, xattentionMask } = await import('../lib');
  const { longContextQKV } = await import('../bench/data');
  const { attentionRef } = await import('../reference/attention');
  const { blockKeep } = await import('../reference/sparse');
  const [B, Hq, Hkv, N, D] = [2, 4, 2, 1000, 32];
  const { q, k, v } = longContextQKV({ B, H: Hq, Hkv, N, D, seed: 3, concentration: 2 });
  const qt = Tensor.fromFloat32(q, [B, Hq, N, D]), kt = Tensor.fromFloat32(k, [B, Hkv, N, D]), vt = Tensor.fromFloat32(v, [B, Hkv, N, D]);
  const dims = { B, Hq, Hkv, Nq: N, Nk: N, D, Dv: D };
  for (const causal of [false, true]) {
    const dense = attentionRef(q, k, v, dims, { causal });
    const r = await xattention(qt, kt, vt, { causal, blockSize: 64, stride: 8, threshold: 0.9, returnLse: true });
    const scores = xattentionScoresSync(qt, kt, { causal, blockSize: 64, stride: 8 });
    const sel = xattentionMask(scores, { threshold: 0.9, causal });
    t.same(r.mask.data, sel.mask.data, `causal ${causal}: the mask is xattentionMask's`);
    t.equal(r.density, sel.density, `causal ${causal}: density ${r.density.toFixed(3)} reported`);
    t.ok(r.density < 0.9, `causal ${causal}: structured inputs need fewer blocks than dense`);
    // The same algorithm in fp64: attention under the selected mask.
    const ref = attentionRef(q, k, v, dims, { causal, keep: blockKeep({ block: 64, mask: r.mask.data as Uint8Array, Hm: Hq }, Hq, N, N) });
    const err = maxAbsDiff(r.out.toFloat32(), ref.out);
    t.ok(err <= 1e-5 * maxAbs(ref.out), `causal ${causal}: output matches the fp64 reference of the same mask (${err.toExponential(2)})`);
    let l1 = 0, l1d = 0;
    for (let i = 0; i < ref.out.length; i++) {
      l1 += Math.abs(ref.out[i] - dense.out[i]);
      l1d += Math.abs(dense.out[i]);
    }
    t.comment(`causal ${causal}: density ${r.density.toFixed(3)}, relative L1 error of the selection against dense ${(l1 / l1d).toExponential(2)}`);
    t.equal(r.lse?.shape.join(), [B, Hq, N].join(), 'lse returned when asked');
  }
  const all = await xattention(qt, kt, vt, { blockSize: 64, threshold: 1 });
  t.equal(all.density, 1, 'threshold 1 keeps every block');
  const denseOut = attentionSync(qt, kt, vt).toFloat32();
  t.ok(maxAbsDiff(all.out.toFloat32(), denseOut) <= 2e-6 * maxAbs(denseOut), 'and reproduces dense attention');

  const pooled = await xattention(qt, kt, vt, { blockSize: 64, threshold: 0.8, poolGroups: true });
  const single = await xattention(qt, kt, vt, { blockSize: 64, threshold: 0.8 });
  t.same(pooled.mask.shape, [B, Hkv, blocks(N, 64), blocks(N, 64)], 'pooled: one mask per kv head');
  const m = single.mask.data as Uint8Array, pm = pooled.mask.data as Uint8Array, n = blocks(N, 64) ** 2;
  let union = true;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++)
      for (let x = 0; x < n; x++) union &&= pm[(b * Hkv + (h >> 1)) * n + x] === (m[(b * Hq + (h & ~1)) * n + x] | m[(b * Hq + (h | 1)) * n + x]);
  t.ok(union, 'pooled mask is the union of its query heads');
  t.ok(pooled.density >= single.density, 'and at least as dense');
  // Its densities: kept over visible blocks per kv head, from the mask it reports.
  const kept = new Array(Hkv).fill(0);
  for (let b = 0; b < B; b++) for (let h = 0; h < Hkv; h++) for (let x = 0; x < n; x++) kept[h] += pm[(b * Hkv + h) * n + x];
  t.same(pooled.densityPerHead, kept.map((k) => k / (B * n)), 'pooled: densities per kv head from its mask');
});

t.test('xattention keeps the token-level diagonal block when Nq and Nk differ modulo the block', async (t) => {
  const { xattention, xattentionScoresSync, xattentionMask } = await import('../lib');
  const [H, Nq, Nk, D] = [2, 100, 230, 32];  // 100 % 64 = 36, 230 % 64 = 38
  const q = Tensor.fromFloat32(randomArray(H * Nq * D, 11), [1, H, Nq, D]);
  const k = Tensor.fromFloat32(randomArray(H * Nk * D, 12), [1, H, Nk, D]);
  const r = await xattention(q, k, k, { causal: true, blockSize: 64, threshold: 0 });
  const sel = xattentionMask(xattentionScoresSync(q, k, { causal: true, blockSize: 64 }), { threshold: 0, causal: true });
  const m = r.mask.data as Uint8Array, s = sel.mask.data as Uint8Array;
  // Query block 0 ends at row 63, which sees keys up to 63 + 130 = 193: key block 3; the scores' diagonal is 0 + 4 - 2 = 2.
  t.equal(s[3], 0, 'the selection alone stops at the scores\' diagonal');
  t.equal(m[3], 1, 'xattention adds the block the last rows see');
  const ref = (await import('../reference/attention')).attentionRef(q.toFloat32(), k.toFloat32(), k.toFloat32(),
    { B: 1, Hq: H, Hkv: H, Nq, Nk, D, Dv: D }, { causal: true, keep: (await import('../reference/sparse')).blockKeep({ block: 64, mask: m, Hm: H }, H, Nq, Nk) });
  t.ok(maxAbsDiff(r.out.toFloat32(), ref.out) <= 1e-5 * maxAbs(ref.out), 'output matches the reference of the mask it reports');
});

t.test('every SIMD path (zmm 64-query tiles, ymm, AVX2, scalar) against the reference', async (t) => {
  const { backendInfo, setSimdLevel, setVectorWidth } = await import('../lib');
  const have = backendInfo().cpu.simd;
  t.teardown(() => {
    setSimdLevel('avx512');
    setVectorWidth('auto');
  });
  const paths: ['avx512' | 'avx2' | 'scalar', 256 | 512 | undefined][] = [
    ...(have === 'avx512' ? ([['avx512', 512], ['avx512', 256]] as ['avx512', 512 | 256][]) : []),
    ...(have !== 'scalar' ? ([['avx2', undefined]] as ['avx2', undefined][]) : []),
    ['scalar', undefined],
  ];
  let seed = 500;
  for (const [level, bits] of paths) {
    setSimdLevel(level);
    if (bits) setVectorWidth(bits);
    for (const block of [64, 128] as const)
      await checkCase(t, maskCase({ Hq: 4, Hkv: 2, Nq: 300, Nk: 333, D: 40, causal: seed % 2 === 0, seed }, block, 0.4, seed % 3 === 0 ? 2 : 4, seed++));
  }
});
