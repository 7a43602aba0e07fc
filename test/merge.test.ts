// mergeAttentionStates against the fp64 reference, and as the combine step of
// attention split over keys.
import t, { type Test } from 'tap';
import { attentionSync, mergeAttentionStates, mergeAttentionStatesSync, Tensor, type FloatDType } from '../lib';
import { mergeRef } from '../reference/merge';
import { maxAbs, maxAbsDiff, randomArray, rng, roundTo, roundingFloor } from './helpers';

const dtypes: FloatDType[] = ['float32', 'float16', 'bfloat16'];

// LSEs in [-8, 8], with some rows empty (-inf) in one state, the other, or both.
function lses(rows: number, seed: number, empties: boolean): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(rows);
  for (let i = 0; i < rows; i++) a[i] = empties && i % 5 === seed % 5 ? -Infinity : r() * 8;
  if (empties && rows > 2) a[rows - 1] = -Infinity;
  return a;
}

interface Shape { B: number; H: number; N: number; D: number }

function check(t: Test, s: Shape, dtype: FloatDType, seed: number, bnhd = false) {
  const { B, H, N, D } = s;
  const rows = B * H * N;
  const o1 = roundTo(randomArray(rows * D, seed), dtype), o2 = roundTo(randomArray(rows * D, seed + 1, 3), dtype);
  const l1 = lses(rows, seed + 2, true), l2 = lses(rows, seed + 3, true);
  const want = mergeRef(o1, l1, o2, l2, D);
  // bnhd: the same rows stored [B, N, H, D], passed as permuted views.
  const toLayout = (x: Float32Array) => {
    const tt = Tensor.fromFloat32(x, [B, H, N, D], dtype);
    return bnhd ? tt.permute([0, 2, 1, 3]).contiguous() : tt;
  };
  const got = mergeAttentionStatesSync(
    toLayout(o1), new Tensor('float32', l1, [B, H, N]), toLayout(o2), new Tensor('float32', l2, [B, H, N]),
    bnhd ? { layout: 'bnhd' } : {},
  );
  t.same(got.out.shape, bnhd ? [B, N, H, D] : [B, H, N, D]);
  t.same(got.lse.shape, [B, H, N]);
  const out = bnhd ? got.out.permute([0, 2, 1, 3]).toFloat32() : got.out.toFloat32();
  const tol = roundingFloor(dtype, maxAbs(want.out)) + 1e-6 * 3;
  const name = `${dtype} B${B} H${H} N${N} D${D}${bnhd ? ' bnhd' : ''}`;
  t.ok(maxAbsDiff(out, want.out) <= tol, `${name}: out error ${maxAbsDiff(out, want.out)} <= ${tol}`);
  let lseErr = 0;
  got.lse.toFloat32().forEach((x, i) => {
    const w = want.lse[i];
    lseErr = Math.max(lseErr, x === w ? 0 : Math.abs(x - w) / (1 + Math.abs(w)));
  });
  t.ok(lseErr <= 1e-6, `${name}: lse relative error ${lseErr}`);
}

t.test('matches the fp64 reference (odd shapes, every dtype, empty states)', async (t) => {
  const shapes: Shape[] = [
    { B: 1, H: 1, N: 1, D: 1 },
    { B: 2, H: 3, N: 17, D: 64 },
    { B: 1, H: 4, N: 113, D: 80 },
    { B: 3, H: 2, N: 5, D: 33 },
    { B: 1, H: 1, N: 7, D: 256 },
  ];
  let seed = 1;
  for (const s of shapes) for (const dtype of dtypes) check(t, s, dtype, seed++);
  check(t, { B: 2, H: 3, N: 9, D: 16 }, 'float32', 99, true);
  check(t, { B: 1, H: 2, N: 31, D: 48 }, 'bfloat16', 98, true);
});

t.test('edge values: both empty, one empty, far apart, NaN', async (t) => {
  const D = 3;
  const o1 = new Float32Array([1, 2, 3, NaN, NaN, NaN, 1, 1, 1, 5, 5, 5, 1, 1, 1]);
  const o2 = new Float32Array([9, 9, 9, 4, 5, 6, 2, 2, 2, 7, 7, 7, 3, 3, 3]);
  const l1 = new Float32Array([-Infinity, -Infinity, 100, 0, NaN]);
  const l2 = new Float32Array([-Infinity, 0.5, -100, 0, 0]);
  const r = mergeAttentionStatesSync(
    new Tensor('float32', o1, [1, 1, 5, D]), new Tensor('float32', l1, [1, 1, 5]),
    new Tensor('float32', o2, [1, 1, 5, D]), new Tensor('float32', l2, [1, 1, 5]),
  );
  const out = r.out.toFloat32(), lse = r.lse.toFloat32();
  t.same([...out.subarray(0, 3)], [0, 0, 0], 'both empty: out 0');
  t.equal(lse[0], -Infinity, 'both empty: lse -inf');
  t.same([...out.subarray(3, 6)], [4, 5, 6], "an empty state's NaN output is ignored");
  t.equal(lse[1], 0.5);
  t.same([...out.subarray(6, 9)], [1, 1, 1], 'exp(-200) weight vanishes');
  t.equal(lse[2], 100);
  t.same([...out.subarray(9, 12)], [6, 6, 6], 'equal LSEs average');
  t.ok(Math.abs(lse[3] - Math.log(2)) < 1e-6, 'equal LSEs add log 2');
  t.ok(out.subarray(12).every(Number.isNaN) && Number.isNaN(lse[4]), 'a NaN LSE propagates');
});

t.test('async, strided inputs, options.out (in place)', async (t) => {
  const B = 2, H = 2, N = 11, D = 24;
  const n = B * H * N * D;
  const o1 = Tensor.fromFloat32(randomArray(n, 5), [B, H, N, D], 'float16');
  const o2 = Tensor.fromFloat32(randomArray(n, 6), [B, H, N, D], 'float16');
  const l1 = new Tensor('float32', randomArray(B * H * N, 7, 4), [B, H, N]);
  const l2 = new Tensor('float32', randomArray(B * H * N, 8, 4), [B, H, N]);
  const sync = mergeAttentionStatesSync(o1, l1, o2, l2);
  const a = await mergeAttentionStates(o1, l1, o2, l2);
  t.same([...a.out.data], [...sync.out.data], 'async = sync');
  // Every other row of a buffer twice as long: a strided view.
  const wide = new Uint16Array(2 * n);
  o1.data.forEach((v, i) => (wide[2 * D * Math.floor(i / D) + (i % D)] = v));
  const strided = new Tensor('float16', wide, [B, H, N, D], [2 * H * N * D, 2 * N * D, 2 * D, 1]);
  t.same([...mergeAttentionStatesSync(strided, l1, o2, l2).out.data], [...sync.out.data], 'strided o1');
  const inPlace = mergeAttentionStatesSync(o1, l1, o2, l2, { out: o1 });
  t.equal(inPlace.out, o1, 'options.out is returned');
  t.same([...o1.data], [...sync.out.data], 'o1 overwritten with the merge');
});

t.test('bad input names the argument', async (t) => {
  const o = Tensor.zeros('float32', [1, 2, 3, 4]);
  const l = Tensor.zeros('float32', [1, 2, 3]);
  t.throws(() => mergeAttentionStatesSync(o, l, Tensor.zeros('float16', [1, 2, 3, 4]), l), TypeError, 'dtype mismatch');
  t.throws(() => mergeAttentionStatesSync(o, l, Tensor.zeros('float32', [1, 2, 3, 5]), l), { name: 'RangeError', message: /o2\.shape\[3\]/ });
  t.throws(() => mergeAttentionStatesSync(o, Tensor.zeros('float32', [1, 2, 4]), o, l), { name: 'RangeError', message: /lse1\.shape\[2\]/ });
  t.throws(() => mergeAttentionStatesSync(o, l, o, Tensor.zeros('float16', [1, 2, 3])), { name: 'TypeError', message: /lse2\.dtype/ });
  t.throws(() => mergeAttentionStatesSync(o, l, o, l, { out: Tensor.zeros('float32', [1, 2, 3, 5]) }), { name: 'RangeError', message: /options\.out/ });
  t.throws(() => mergeAttentionStatesSync(o, l, o, l, { layout: 'nhd' as 'bhnd' }), RangeError);
  await t.rejects(mergeAttentionStates(o, l, o, Tensor.zeros('float32', [1, 2])), RangeError, 'async rejects');
});

t.test('attention over two key halves, merged, equals attention over all keys', async (t) => {
  const B = 2, Hq = 4, Hkv = 2, Nq = 37, Nk = 101, D = 32;
  for (const dtype of ['float32', 'bfloat16'] as FloatDType[])
    for (const split of [1, 50, 100]) {
      const q = Tensor.fromFloat32(randomArray(B * Hq * Nq * D, 1), [B, Hq, Nq, D], dtype);
      const k = Tensor.fromFloat32(randomArray(B * Hkv * Nk * D, 2), [B, Hkv, Nk, D], dtype);
      const v = Tensor.fromFloat32(randomArray(B * Hkv * Nk * D, 3), [B, Hkv, Nk, D], dtype);
      // Key slices are strided views of k and v (no copy).
      const part = (x: Tensor, from: number, len: number) =>
        new Tensor(dtype, x.data.subarray(from * D), [B, Hkv, len, D], x.strides);
      const a = attentionSync(q, part(k, 0, split), part(v, 0, split), { returnLse: true });
      const b = attentionSync(q, part(k, split, Nk - split), part(v, split, Nk - split), { returnLse: true });
      const full = attentionSync(q, k, v, { returnLse: true });
      // Each half must be stored in the dtype, so compare at fp32 accumulation for
      // fp32 and at two roundings of the dtype otherwise.
      const m = mergeAttentionStatesSync(a.out, a.lse, b.out, b.lse);
      const want = full.out.toFloat32();
      const tol = dtype === 'float32' ? 2e-6 : 3 * roundingFloor(dtype, maxAbs(want));
      const err = maxAbsDiff(m.out.toFloat32(), want);
      t.ok(err <= tol, `${dtype} split at ${split}: out error ${err} <= ${tol}`);
      const lerr = maxAbsDiff(m.lse.toFloat32(), full.lse.toFloat32());
      t.ok(lerr <= 2e-5, `${dtype} split at ${split}: lse error ${lerr}`);
    }
});
