// XAttention scoring, block selection and streaming masks against references written
// from the definitions (reference/xattention.ts), and bad input.
import t, { type Test } from 'tap';
import {
  backendInfo,
  setNumThreads,
  setSimdLevel,
  setVectorWidth,
  streamingMask,
  Tensor,
  xattentionMask,
  xattentionScores,
  xattentionScoresSync,
  type FloatDType,
  type XAttentionScoresOptions,
} from '../lib';
import { longContextQKV } from '../bench/data';
import { bitsEqual, maxAbsDiff, randomArray, rng, roundTo } from './helpers';
import { selectRowRef, xattentionScoresRef } from '../reference/xattention';

interface ScoreCase {
  B?: number;
  Hq?: number;
  Hkv?: number;
  Nq: number;
  Nk: number;
  D?: number;
  stride: number;
  blockSize: number;
  causal?: boolean;
  scale?: number;
  dtype?: FloatDType;
  layout?: 'bhnd' | 'bnhd';
  seed?: number;
}

// [B, H, N, D] values as a tensor in `layout` (bnhd: the same values permuted).
function asLayout(x: Float32Array, [B, H, N, D]: number[], dtype: FloatDType, layout: 'bhnd' | 'bnhd'): Tensor {
  if (layout === 'bhnd') return Tensor.fromFloat32(x, [B, H, N, D], dtype);
  const y = new Float32Array(x.length);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let n = 0; n < N; n++)
        y.set(x.subarray(((b * H + h) * N + n) * D, ((b * H + h) * N + n + 1) * D), ((b * N + n) * H + h) * D);
  return Tensor.fromFloat32(y, [B, N, H, D], dtype);
}

function inputs(c: ScoreCase) {
  const { B = 1, Hq = 1, Hkv = 1, Nq, Nk, D = 16, dtype = 'float32', layout = 'bhnd', seed = 1 } = c;
  // Amplitude 2: logits spread over several units, so the softmax is far from uniform.
  const q = roundTo(randomArray(B * Hq * Nq * D, seed, 2), dtype), k = roundTo(randomArray(B * Hkv * Nk * D, seed + 100, 2), dtype);
  return {
    q,
    k,
    dims: { B, Hq, Hkv, Nq, Nk, D },
    qt: asLayout(q, [B, Hq, Nq, D], dtype, layout),
    kt: asLayout(k, [B, Hkv, Nk, D], dtype, layout),
    opts: { stride: c.stride, blockSize: c.blockSize, causal: c.causal ?? false, scale: c.scale, layout } as XAttentionScoresOptions,
  };
}

// Scores are sums of up to (blockSize/stride)^2 fp32 probabilities: an fp32-level
// tolerance relative to a row's total, blockSize/stride.
const tolerance = (c: ScoreCase) => 2e-6 * (c.blockSize / c.stride);

async function checkScores(t: Test, c: ScoreCase) {
  const { q, k, dims, qt, kt, opts } = inputs(c);
  const got = xattentionScoresSync(qt, kt, opts);
  const nqb = Math.ceil(c.Nq / c.blockSize), nkb = Math.ceil(c.Nk / c.blockSize);
  t.same(got.shape, [dims.B, dims.Hq, nqb, nkb], 'shape');
  t.equal(got.dtype, 'float32');
  const ref = xattentionScoresRef(q, k, dims, { stride: c.stride, blockSize: c.blockSize, causal: c.causal, scale: c.scale });
  const err = maxAbsDiff(got.toFloat32(), ref);
  t.ok(err <= tolerance(c), `${JSON.stringify(c)}: max error ${err.toExponential(2)}`);
}

t.test('scores match the fp64 reference: odd lengths, Nq != Nk, strides, blocks, causal, GQA, batch, dtypes, layouts', async (t) => {
  const pairs: [number, number][] = [[113, 113], [1030, 1030], [113, 1030], [1030, 113], [64, 200], [1, 1], [7, 300], [300, 7]];
  const heads: [number, number][] = [[1, 1], [2, 1], [4, 2]];
  const dtypes: FloatDType[] = ['float32', 'float16', 'bfloat16'];
  let n = 0;
  for (const [Nq, Nk] of pairs)
    for (const stride of [4, 8, 16])
      for (const causal of [false, true]) {
        const [Hq, Hkv] = heads[n % 3];
        await checkScores(t, {
          B: 1 + (n % 2), Hq, Hkv, Nq, Nk, D: n % 4 === 3 ? 24 : 8, stride, blockSize: n % 5 < 2 ? 64 : 128, causal,
          dtype: dtypes[n % 3], layout: n % 4 < 2 ? 'bhnd' : 'bnhd', seed: ++n,
        });
      }
});

t.test('scale option, and the same scores from the async call and into options.out', async (t) => {
  const c: ScoreCase = { Hq: 2, Hkv: 1, Nq: 300, Nk: 300, D: 16, stride: 8, blockSize: 64, causal: true, scale: 0.7 };
  await checkScores(t, c);
  const { qt, kt, opts } = inputs(c);
  const sync = xattentionScoresSync(qt, kt, opts);
  t.ok(bitsEqual(await xattentionScores(qt, kt, opts), sync), 'async equals sync');
  const out = Tensor.zeros('float32', sync.shape);
  t.equal(xattentionScoresSync(qt, kt, { ...opts, out }), out, 'returns options.out');
  t.ok(bitsEqual(out, sync), 'options.out holds the scores');
});

t.test('strided (non-contiguous) fp32 keys are staged and match the reference', async (t) => {
  const B = 1, H = 2, Nq = 200, Nk = 203, D = 16, S = 8, Bk = 64;
  const q = randomArray(B * H * Nq * D, 5, 2), k = randomArray(B * H * Nk * D, 6, 2);
  // Keys as every other row of a buffer twice as long.
  const wide = new Float32Array(2 * k.length);
  for (let r = 0; r < H * Nk; r++) wide.set(k.subarray(r * D, (r + 1) * D), 2 * r * D);
  const kt = new Tensor('float32', wide, [B, H, Nk, D], [2 * H * Nk * D, 2 * Nk * D, 2 * D, 1]);
  const got = xattentionScoresSync(new Tensor('float32', q, [B, H, Nq, D]), kt, { stride: S, blockSize: Bk, causal: true });
  const ref = xattentionScoresRef(q, k, { B, Hq: H, Hkv: H, Nq, Nk, D }, { stride: S, blockSize: Bk, causal: true });
  t.ok(maxAbsDiff(got.toFloat32(), ref) <= 2e-6 * (Bk / S));
});

t.test('rows of blocks sum to their real reduced rows (non-causal)', async (t) => {
  const Nq = 1000, Nk = 700, S = 16, Bk = 128, D = 16;
  const { qt, kt, opts } = inputs({ Nq, Nk, D, stride: S, blockSize: Bk });
  const v = xattentionScoresSync(qt, kt, opts).toFloat32();
  const nkb = Math.ceil(Nk / Bk), R = Bk / S, nqr = Math.ceil(Nq / S);
  for (let qb = 0; qb < Math.ceil(Nq / Bk); qb++) {
    const rows = Math.min(R, nqr - qb * R);
    const sum = v.subarray(qb * nkb, (qb + 1) * nkb).reduce((a, b) => a + b, 0);
    t.ok(Math.abs(sum - rows) < 1e-4, `block row ${qb}: ${sum} vs ${rows}`);
  }
});

t.test('the result does not depend on threads, chunk or vector width; every SIMD path matches the reference', async (t) => {
  const c: ScoreCase = { B: 2, Hq: 4, Hkv: 2, Nq: 1030, Nk: 1100, D: 32, stride: 8, blockSize: 64, causal: true, seed: 9 };
  const { qt, kt, opts } = inputs(c);
  const threads = backendInfo().cpu.threads;
  t.teardown(() => {
    setNumThreads(threads);
    setSimdLevel('avx512');
    setVectorWidth('auto');
  });
  const base = xattentionScoresSync(qt, kt, opts);
  setNumThreads(1);
  t.ok(bitsEqual(xattentionScoresSync(qt, kt, opts), base), '1 thread');
  setNumThreads(3);
  t.ok(bitsEqual(xattentionScoresSync(qt, kt, opts), base), '3 threads');
  setNumThreads(threads);
  for (const chunk of [64, 192, 4096]) t.ok(bitsEqual(xattentionScoresSync(qt, kt, { ...opts, chunk }), base), `chunk ${chunk}`);
  const have = backendInfo().cpu.simd;
  if (have === 'avx512') {
    setVectorWidth(256);
    const y = xattentionScoresSync(qt, kt, opts);
    setVectorWidth(512);
    t.ok(bitsEqual(xattentionScoresSync(qt, kt, opts), y), 'zmm and ymm give the same bits');
    setVectorWidth('auto');
  }
  for (const level of have === 'scalar' ? ['scalar'] as const : ['avx2', 'scalar'] as const) {
    t.equal(setSimdLevel(level), level);
    await checkScores(t, c);
    await checkScores(t, { Nq: 113, Nk: 300, D: 8, stride: 4, blockSize: 128, causal: false, dtype: 'bfloat16' });
  }
});

t.test('structured long-context data: sinks, band and stripes show in the scores; more concentration, sparser masks', async (t) => {
  const H = 2, N = 2048, D = 32, Bk = 128;
  const densities: number[] = [];
  for (const concentration of [0, 1, 1.5]) {
    const { q, k } = longContextQKV({ H, N, D, concentration, seed: 4 });
    const s = xattentionScoresSync(new Tensor('float32', q, [1, H, N, D]), new Tensor('float32', k, [1, H, N, D]), {
      stride: 8, blockSize: Bk, causal: true,
    });
    densities.push(xattentionMask(s, { threshold: 0.9, causal: true }).density);
    if (concentration === 1) {
      const v = s.toFloat32(), nb = N / Bk;
      // In the last query block, the diagonal block outweighs an average block by far.
      const row = v.subarray((nb - 1) * nb, nb * nb);
      t.ok(row[nb - 1] > 4 * (16 / nb), `diagonal block ${row[nb - 1]}`);
    }
  }
  t.ok(densities[0] > densities[1] && densities[1] > densities[2], `densities ${densities}`);
  t.ok(densities[0] > 0.8 && densities[2] < 0.5, `densities ${densities}`);
});

// ---------------------------------------------------------------- selection

// Scores with many ties and zeros whose sums are exact in fp32 and fp64 (multiples of 1/16).
function dyadicScores(B: number, H: number, nqb: number, nkb: number, seed: number, levels = 8): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: B * H * nqb * nkb }, () => Math.floor(((r() + 1) / 2) * levels) / 16);
}

function checkMask(t: Test, v: Float32Array, shape: number[], thr: number[], causal: boolean, keepSink: boolean, keepRecent: boolean) {
  const [B, H, nqb, nkb] = shape;
  const res = xattentionMask(new Tensor('float32', v, shape), { threshold: thr.length === 1 ? thr[0] : thr, causal, keepSink, keepRecent });
  const m = res.mask.data as Uint8Array;
  t.same(res.mask.shape, shape);
  t.equal(res.mask.dtype, 'uint8');
  let bad = 0, kept = 0, visible = 0;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let qb = 0; qb < nqb; qb++) {
        const o = ((b * H + h) * nqb + qb) * nkb;
        const diag = qb + nkb - nqb;
        const vis = causal ? Math.max(0, Math.min(diag + 1, nkb)) : nkb;
        const forced = [...(keepSink ? [0] : []), ...(keepRecent ? [diag] : [])];
        const want = vis ? selectRowRef(v.subarray(o, o + nkb), vis, forced, thr[thr.length === 1 ? 0 : h]) : new Uint8Array(nkb);
        for (let kb = 0; kb < nkb; kb++) if (m[o + kb] !== want[kb]) bad++;
        kept += want.reduce((a, x) => a + x, 0);
        visible += vis;
      }
  t.equal(bad, 0, `mask ${JSON.stringify({ shape, thr, causal, keepSink, keepRecent })}`);
  t.ok(Math.abs(res.density - (visible ? kept / visible : 0)) < 1e-12, 'density');
  return res;
}

t.test('xattentionMask: the brute-force minimal set on small rows, with ties, zeros, thresholds 0 and 1', async (t) => {
  let seed = 0;
  for (const [nqb, nkb] of [[1, 1], [1, 7], [3, 3], [4, 9], [6, 12], [5, 3]])
    for (const thr of [0, 0.25, 0.5, 0.9, 1, 0.7316])
      for (let f = 0; f < 8; f++) {
        const causal = (f & 1) === 1, keepSink = (f & 2) === 0, keepRecent = (f & 4) === 0;
        checkMask(t, dyadicScores(2, 2, nqb, nkb, ++seed), [2, 2, nqb, nkb], [thr], causal, keepSink, keepRecent);
      }
});

t.test('xattentionMask: thresholds 0 and 1, per-head thresholds, ties to the lower index', async (t) => {
  const shape = [1, 3, 4, 10], v = dyadicScores(1, 3, 4, 10, 77);
  const zero = xattentionMask(new Tensor('float32', v, shape), { threshold: 0, causal: true }).mask.data as Uint8Array;
  const one = xattentionMask(new Tensor('float32', v, shape), { threshold: 1, causal: true }).mask.data as Uint8Array;
  for (let r = 0; r < 12; r++) {
    const qb = r % 4, diag = qb + 6;
    for (let kb = 0; kb < 10; kb++) {
      const i = r * 10 + kb;
      t.equal(zero[i], kb === 0 || kb === diag ? 1 : 0, `threshold 0 keeps sink and diagonal only (row ${r}, block ${kb})`);
      t.equal(one[i], kb === 0 || kb === diag || (kb < diag && v[i] > 0) ? 1 : 0, `threshold 1 keeps every positive visible block (row ${r}, block ${kb})`);
    }
  }
  const res = checkMask(t, v, shape, [0, 0.5, 1], true, true, true);
  t.ok(res.densityPerHead[0] < res.densityPerHead[1] && res.densityPerHead[1] < res.densityPerHead[2], `per head ${res.densityPerHead}`);
  const counts = [0, 1, 2].map((h) => (res.mask.data as Uint8Array).subarray(h * 40, (h + 1) * 40).reduce((a, x) => a + x, 0));
  const visible = 7 + 8 + 9 + 10;
  t.same(res.densityPerHead, counts.map((c) => c / visible), 'densityPerHead counts kept over causally visible blocks');

  const ties = xattentionMask(new Tensor('float32', new Float32Array([0.25, 0.25, 0.25, 0.25]), [1, 1, 1, 4]), {
    threshold: 0.5, keepSink: false, keepRecent: false,
  });
  t.same(Array.from(ties.mask.data), [1, 1, 0, 0], 'equal scores: lower block indices first');
});

t.test('xattentionMask: long rows take the mass-guided select and still give the minimal set', async (t) => {
  const [nqb, nkb] = [3, 700];
  for (const [seed, thr, levels] of [[1, 0.5, 8], [2, 0.9, 8], [3, 0.99, 64], [4, 1, 3], [5, 0.999, 1024]] as const) {
    const v = dyadicScores(1, 1, nqb, nkb, seed, levels);
    const m = xattentionMask(new Tensor('float32', v, [1, 1, nqb, nkb]), { threshold: thr, causal: true }).mask.data as Uint8Array;
    for (let qb = 0; qb < nqb; qb++) {
      // The greedy order (score descending, index ascending) after the forced blocks:
      // its shortest prefix reaching the threshold is the minimal set.
      const row = v.subarray(qb * nkb, (qb + 1) * nkb), diag = qb + nkb - nqb;
      const total = row.subarray(0, diag + 1).reduce((a, x) => a + x, 0);
      const want = new Uint8Array(nkb);
      want[0] = want[diag] = 1;
      let kept = row[0] + row[diag];
      const order = Array.from({ length: diag + 1 }, (_, i) => i).filter((i) => i !== 0 && i !== diag && row[i] > 0);
      order.sort((a, b) => row[b] - row[a] || a - b);
      for (const i of order) {
        if (kept >= thr * total) break;
        want[i] = 1;
        kept += row[i];
      }
      t.same(m.subarray(qb * nkb, (qb + 1) * nkb), want, `seed ${seed} threshold ${thr} row ${qb}`);
    }
  }
});

t.test('xattentionMask: a long row of equal scores keeps exactly the lowest indices that reach the threshold', async (t) => {
  // Equal scores: the order is the index order, and half the mass is exactly the first
  // half of the blocks, a boundary the select's first partition lands on.
  for (const [nkb, thr, kept] of [[700, 0.5, 350], [700, 0.25, 175], [701, 1, 701], [640, 0.5 + 1 / 1280, 321]] as const) {
    const m = xattentionMask(new Tensor('float32', new Float32Array(nkb).fill(1 / 16), [1, 1, 1, nkb]), {
      threshold: thr, keepSink: false, keepRecent: false,
    }).mask.data as Uint8Array;
    t.same(Array.from(m), Array.from({ length: nkb }, (_, i) => (i < kept ? 1 : 0)), `${nkb} blocks, threshold ${thr}: the first ${kept}`);
  }
});

t.test('xattentionMask: strided scores give the same mask as contiguous ones', async (t) => {
  const shape = [2, 2, 3, 5], v = dyadicScores(2, 2, 3, 5, 31);
  const wide = new Float32Array(2 * v.length);
  for (let r = 0; r < v.length / 5; r++) wide.set(v.subarray(r * 5, r * 5 + 5), r * 10);
  const strided = new Tensor('float32', wide, shape, [60, 30, 10, 1]);
  const a = xattentionMask(strided, { threshold: 0.6, causal: true }), b = xattentionMask(new Tensor('float32', v, shape), { threshold: 0.6, causal: true });
  t.same(Array.from(a.mask.data), Array.from(b.mask.data));
  t.equal(a.density, b.density);
});

t.test('xattentionMask: causal rows whose diagonal is before block 0 keep nothing', async (t) => {
  const res = xattentionMask(new Tensor('float32', new Float32Array(3 * 2).fill(1), [1, 1, 3, 2]), { threshold: 1, causal: true });
  t.same(Array.from(res.mask.data), [0, 0, 1, 0, 1, 1]);
  t.equal(res.density, 1);
});

// ---------------------------------------------------------------- streaming

t.test('streamingMask: sink blocks and the local blocks ending at the bottom-right diagonal', async (t) => {
  const rows = (m: Tensor, nkb: number) =>
    Array.from({ length: m.shape[2] }, (_, qb) =>
      Array.from((m.data as Uint8Array).subarray(qb * nkb, (qb + 1) * nkb)).flatMap((x, kb) => (x ? [kb] : [])));
  t.same(rows(streamingMask(512, 512, { sinkBlocks: 1, localBlocks: 2 }), 4), [[0], [0, 1], [0, 1, 2], [0, 2, 3]]);
  // Nq < Nk, not block aligned: rows 0..63 end at key 263 (block 4), rows 64..99 at key 299.
  t.same(rows(streamingMask(100, 300, { sinkBlocks: 1, localBlocks: 1, blockSize: 64 }), 5), [[0, 4], [0, 4]]);
  // Nq > Nk: the first query blocks see no key at all.
  t.same(rows(streamingMask(300, 100, { sinkBlocks: 1, localBlocks: 1, blockSize: 64 }), 2), [[], [], [], [0], [0, 1]]);
  t.same(rows(streamingMask(300, 100, { sinkBlocks: 2, localBlocks: 1, blockSize: 64, causal: false }), 2), [[0, 1], [0, 1], [0, 1], [0, 1], [0, 1]]);
  const m = streamingMask(1000, 1000, { sinkBlocks: 2, localBlocks: 3, batch: 2, heads: 3 });
  t.same(m.shape, [2, 3, 8, 8]);
  const one = (m.data as Uint8Array).subarray(0, 64);
  for (let i = 1; i < 6; i++) t.same((m.data as Uint8Array).subarray(i * 64, (i + 1) * 64), one, `head ${i} repeats the pattern`);
  // Against the rule: a block is kept iff it is at most the block holding the query
  // block's last visible key and is a sink block or one of the localBlocks ending there.
  for (const [nq, nk, bs, sink, local] of [[777, 1500, 64, 2, 3], [1500, 777, 128, 1, 2], [129, 129, 64, 0, 1]]) {
    const got = streamingMask(nq, nk, { sinkBlocks: sink, localBlocks: local, blockSize: bs }).data as Uint8Array;
    const nqb = Math.ceil(nq / bs), nkb = Math.ceil(nk / bs);
    let bad = 0;
    for (let qb = 0; qb < nqb; qb++) {
      const lastKey = Math.min((qb + 1) * bs, nq) - 1 + nk - nq;
      for (let kb = 0; kb < nkb; kb++) {
        const d = Math.floor(lastKey / bs);
        const want = lastKey >= 0 && kb <= d && (kb < sink || kb > d - local);
        if (got[qb * nkb + kb] !== (want ? 1 : 0)) bad++;
      }
    }
    t.equal(bad, 0, `nq ${nq} nk ${nk} block ${bs}`);
  }
});

// ---------------------------------------------------------------- bad input

t.test('bad input: TypeError or RangeError naming the argument, nothing written', async (t) => {
  const f32 = (shape: number[]) => Tensor.zeros('float32', shape);
  const q = f32([1, 2, 64, 16]), k = f32([1, 1, 64, 16]);
  type Args = [unknown, unknown, unknown?];
  const cases: [string, Args, TypeErrorConstructor | RangeErrorConstructor, RegExp][] = [
    ['stride not dividing the block', [q, k, { stride: 3 }], RangeError, /options\.stride must be 4, 8 or 16 and divide options\.blockSize = 128, got 3/],
    ['stride too large', [q, k, { stride: 32, blockSize: 64 }], RangeError, /options\.stride .* got 32/],
    ['block size', [q, k, { blockSize: 96 }], RangeError, /options\.blockSize must be 64 or 128, got 96/],
    ['stride not an integer', [q, k, { stride: 8.5 }], RangeError, /options\.stride must be a safe integer/],
    ['stride a string', [q, k, { stride: '8' }], TypeError, /options\.stride must be an integer/],
    ['chunk not a multiple of the block', [q, k, { chunk: 100 }], RangeError, /options\.chunk must be a positive multiple of options\.blockSize = 128, got 100/],
    ['integer q', [Tensor.zeros('int32', [1, 2, 64, 16]), k], TypeError, /q\.dtype must be float32 \| float16 \| bfloat16, got int32/],
    ['mixed dtypes', [q, Tensor.zeros('float16', [1, 1, 64, 16])], TypeError, /k\.dtype must equal q\.dtype = float32, got float16/],
    ['3-d k', [q, f32([1, 64, 16])], RangeError, /k must have 4 dimensions, got 3/],
    ['head dims differ', [q, f32([1, 1, 64, 8])], RangeError, /k\.shape\[3\] \(head dim\) must equal q\.shape\[3\] = 16, got 8/],
    ['batch differs', [q, f32([2, 1, 64, 16])], RangeError, /k\.shape\[0\] \(batch\)/],
    ['heads not a multiple', [f32([1, 3, 64, 16]), f32([1, 2, 64, 16])], RangeError, /query heads\) = 3 must be a multiple of .* = 2/],
    ['NaN scale', [q, k, { scale: NaN }], RangeError, /options\.scale must be a finite number/],
    ['causal not boolean', [q, k, { causal: 1 }], TypeError, /options\.causal must be a boolean/],
    ['layout', [q, k, { layout: 'nhd' }], RangeError, /options\.layout must be 'bhnd' or 'bnhd'/],
    ['out of the wrong shape', [q, k, { out: f32([1, 2, 1, 2]) }], RangeError, /options\.out\.shape\[3\] \(scores\) must equal the scores shape = 1, got 2/],
    ['out of the wrong dtype', [q, k, { out: Tensor.zeros('float16', [1, 2, 1, 1]) }], TypeError, /options\.out\.dtype must be float32/],
  ];
  const sync = xattentionScoresSync as (...a: unknown[]) => unknown, later = xattentionScores as (...a: unknown[]) => Promise<unknown>;
  for (const [what, args, cls, msg] of cases) {
    t.throws(() => sync(...args), { constructor: cls, message: msg }, what);
    await t.rejects(later(...args), { constructor: cls, message: msg }, `${what} (async)`);
  }
  // A rejected call leaves the caller's output as it was.
  const out = new Tensor('float32', new Float32Array(2).fill(7), [1, 2, 1, 1]);
  t.throws(() => xattentionScoresSync(q, k, { out, stride: 12 } as XAttentionScoresOptions), RangeError);
  t.same(Array.from(out.data), [7, 7], 'options.out untouched');

  const s = f32([1, 2, 3, 4]);
  const mask = xattentionMask as (...a: unknown[]) => unknown;
  const maskCases: [string, unknown[], TypeErrorConstructor | RangeErrorConstructor, RegExp][] = [
    ['threshold above 1', [s, { threshold: 1.5 }], RangeError, /options\.threshold must be in \[0, 1\], got 1\.5/],
    ['threshold NaN', [s, { threshold: NaN }], RangeError, /options\.threshold must be in \[0, 1\], got NaN/],
    ['per-head threshold below 0', [s, { threshold: [0.5, -0.1] }], RangeError, /options\.threshold\[1\] must be in \[0, 1\], got -0\.1/],
    ['per-head thresholds of the wrong length', [s, { threshold: [0.5] }], RangeError, /options\.threshold has 1 entries but scores\.shape\[1\] \(heads\) = 2/],
    ['threshold missing', [s, {}], TypeError, /options\.threshold must be a number/],
    ['threshold a string', [s, { threshold: '0.9' }], TypeError, /options\.threshold must be a number/],
    ['fp16 scores', [Tensor.zeros('float16', [1, 2, 3, 4]), { threshold: 0.9 }], TypeError, /scores\.dtype must be float32, got float16/],
    ['3-d scores', [f32([2, 3, 4]), { threshold: 0.9 }], RangeError, /scores must have 4 dimensions, got 3/],
    ['keepSink not boolean', [s, { threshold: 0.9, keepSink: 1 }], TypeError, /options\.keepSink must be a boolean/],
    ['no options', [s], TypeError, /options must be an object/],
  ];
  for (const [what, args, cls, msg] of maskCases) t.throws(() => mask(...args), { constructor: cls, message: msg }, what);
  const stream = streamingMask as (...a: unknown[]) => unknown;
  const streamCases: [string, unknown[], TypeErrorConstructor | RangeErrorConstructor, RegExp][] = [
    ['nq zero', [0, 10, { sinkBlocks: 1, localBlocks: 1 }], RangeError, /nq must be an integer >= 1, got 0/],
    ['nk a string', [10, '10', { sinkBlocks: 1, localBlocks: 1 }], TypeError, /nk must be an integer/],
    ['negative sink', [10, 10, { sinkBlocks: -1, localBlocks: 1 }], RangeError, /options\.sinkBlocks must be an integer >= 0, got -1/],
    ['local missing', [10, 10, { sinkBlocks: 1 }], TypeError, /options\.localBlocks is required/],
    ['block size zero', [10, 10, { sinkBlocks: 1, localBlocks: 1, blockSize: 0 }], RangeError, /options\.blockSize must be an integer >= 1, got 0/],
  ];
  for (const [what, args, cls, msg] of streamCases) t.throws(() => stream(...args), { constructor: cls, message: msg }, what);
});
