// Answers that were silently wrong, and the error codes: NaN rows in the LSE,
// outputs that overlap inputs, scale and softcap beyond fp32, codes on every error.
import t from 'tap';
import {
  attentionSync, causalConv1dSync, causalConv1dUpdateSync, mergeAttentionStates, mergeAttentionStatesSync, selectiveScanSync,
  selectiveStateUpdateSync, Tensor, ErrorCodes, quantizeSync, quantizedAttentionSync,
} from '../lib';
import { native } from '../lib/native';
import { randomArray } from './helpers';
import { describe, runChild } from './child';

const f32 = (shape: number[], seed = 1) => Tensor.fromFloat32(randomArray(shape.reduce((a, b) => a * b, 1), seed), shape);

t.test('a NaN score gives lse = NaN (not the -inf of an empty row), and the merge keeps it', async (t) => {
  for (const Nq of [1, 4, 40]) {  // decode rows and query tiles
    const q = f32([1, 2, Nq, 16], 1), k = f32([1, 2, 24, 16], 2), v = f32([1, 2, 24, 16], 3);
    (q.data as Float32Array)[5] = NaN;  // row 0 of head 0
    (k.data as Float32Array)[2 * 24 * 16 - 1] = NaN;  // the last key of head 1: every row of head 1
    const { out, lse } = attentionSync(q, k, v, { returnLse: true });
    const l = lse.data as Float32Array, o = out.data as Float32Array;
    t.ok(Number.isNaN(l[0]) && Number.isNaN(o[0]), `Nq=${Nq}: row 0 of head 0 is NaN`);
    if (Nq > 1) t.ok(Number.isFinite(l[1]), `Nq=${Nq}: row 1 of head 0 is untouched`);
    t.ok(l.subarray(Nq).every(Number.isNaN), `Nq=${Nq}: every row of head 1 has lse NaN`);
    const empty = Tensor.fromFloat32(new Float32Array(2 * Nq).fill(-Infinity), [1, 2, Nq]);
    const m = mergeAttentionStatesSync(Tensor.zeros('float32', [1, 2, Nq, 16]), empty, out, lse);
    t.ok(Number.isNaN((m.lse.data as Float32Array)[0]) && Number.isNaN((m.out.data as Float32Array)[0]), `Nq=${Nq}: merged row stays NaN`);
  }
});

t.test('an output that overlaps an input is a RangeError (every op); merge into o1 itself stays allowed', async (t) => {
  const x = Tensor.fromFloat32(Float32Array.from({ length: 8 }, (_, i) => i + 1), [1, 1, 8]);
  const w = Tensor.fromFloat32(new Float32Array(4).fill(1), [1, 4]);
  t.throws(() => causalConv1dSync(x, w, { out: x }), { name: 'RangeError', code: 'ERR_SUBQ_ARG', message: /^options\.out overlaps the memory of x/ });
  t.same(Array.from(causalConv1dSync(x, w).data), [1, 3, 6, 10, 14, 18, 22, 26]);

  // attention: out over q shifted by one row.
  const buf = randomArray(9 * 16, 4);
  const q = new Tensor('float32', buf.subarray(0, 8 * 16), [1, 1, 8, 16]);
  const shifted = new Tensor('float32', buf.subarray(16), [1, 1, 8, 16]);
  const kv = f32([1, 1, 8, 16], 5);
  t.throws(() => attentionSync(q, kv, kv, { out: shifted }), { name: 'RangeError', message: /^options\.out overlaps the memory of q/ });
  t.throws(() => attentionSync(kv, kv, q, { out: shifted }), { message: /^options\.out overlaps the memory of v/ });

  // merge: out a transposed view of o1 is refused; out = o1 is documented and right.
  const o1 = f32([1, 4, 4, 8], 6), o2 = f32([1, 4, 4, 8], 7), l1 = f32([1, 4, 4], 8), l2 = f32([1, 4, 4], 9);
  t.throws(() => mergeAttentionStatesSync(o1, l1, o2, l2, { out: o1.permute([0, 2, 1, 3]) }), { message: /^options\.out overlaps the memory of o1 \(only the very same view/ });
  t.throws(() => mergeAttentionStatesSync(o1, l1, o2, l2, { out: o2 }), { message: /overlaps the memory of o2/ });
  const want = mergeAttentionStatesSync(o1, l1, o2, l2).out.data;
  const o1b = new Tensor('float32', (o1.data as Float32Array).slice(), o1.shape);
  const inPlace = await mergeAttentionStates(o1b, l1, o2, l2, { out: o1b });  // async: staged as one block
  t.equal(inPlace.out, o1b);
  t.same(o1b.data, want);
  t.same(mergeAttentionStatesSync(o1, l1, o2, l2, { out: o1 }).out.data, want);

  // scan, state update and conv update: out over an input, and a state over an input.
  const u = f32([1, 2, 8], 10), delta = f32([1, 2, 8], 11), A = f32([2, 4], 12), B = f32([1, 1, 4, 8], 13), C = f32([1, 1, 4, 8], 14);
  t.throws(() => selectiveScanSync(u, delta, A, B, C, { out: delta }), { message: /^options\.out overlaps the memory of delta/ });
  const state = f32([2, 2, 4], 15), xs = f32([2, 2], 16), dt = f32([2, 2], 17), Bs = f32([2, 4], 18), Cs = f32([2, 4], 19), As = f32([2, 4], 20);
  t.throws(() => selectiveStateUpdateSync(state, xs, dt, As, Bs, Cs, { out: xs }), { message: /^options\.out overlaps the memory of x/ });
  const stateView = new Tensor('float32', state.data.subarray(0, 4) as Float32Array, [2, 2]);
  t.throws(() => selectiveStateUpdateSync(state, stateView, dt, As, Bs, Cs), { message: /^state overlaps the memory of x/ });
  const convState = f32([2, 2, 3], 21), cw = f32([2, 4], 22);
  t.throws(() => causalConv1dUpdateSync(xs, convState, cw, { out: new Tensor('float32', convState.data as Float32Array, [2, 2]) }), { message: /^options\.out overlaps the memory of convState/ });
  t.throws(() => causalConv1dUpdateSync(xs, convState, cw, { out: new Tensor('float32', new Float32Array(2), [2, 2], [0, 1]) }), { message: /^options\.out is written, so its elements must not share memory/ });

  // Every op's written buffers pass one check: a broadcast (stride-0) out is refused by
  // attention and merge as by the state-space ops (its rows would be written at once).
  const rows = new Tensor('float32', new Float32Array(16), [1, 1, 8, 16], [0, 0, 0, 1]);
  t.throws(() => attentionSync(kv, kv, kv, { out: rows }), { name: 'RangeError', message: /^options\.out is written, so its elements must not share memory/ });
  const mrows = new Tensor('float32', new Float32Array(8), [1, 4, 4, 8], [0, 0, 0, 1]);
  t.throws(() => mergeAttentionStatesSync(o1, l1, o2, l2, { out: mrows }), { message: /^options\.out is written, so its elements must not share memory/ });

  // quantizedAttention: the output may not overlap a pre-quantized cache either.
  const kq = quantizeSync(f32([1, 1, 8, 16], 23), { bits: 8 });
  const shared = new Float32Array(8 * 16);  // k's scales at the start of the output's memory
  shared.set(kq.scales.data as Float32Array);
  const kqShared = { ...kq, scales: new Tensor('float32', shared.subarray(0, kq.scales.data.length), kq.scales.shape) };
  const kqOut = new Tensor('float32', shared, [1, 1, 8, 16]);
  t.throws(() => quantizedAttentionSync(kv, kqShared, kv, { out: kqOut }), { name: 'RangeError', message: /^options\.out overlaps the memory of k\.scales/ });
  t.same(quantizedAttentionSync(kv, kqShared, kv).data, quantizedAttentionSync(kv, kq, kv).data, 'the same call with a fresh output runs');
});

t.test('scale and softcap beyond fp32 normal numbers are RangeErrors; edge values work', async (t) => {
  const q = f32([1, 1, 4, 8], 1), k = f32([1, 1, 4, 8], 2);
  for (const [opt, re] of [
    [{ scale: 1e300 }, /^options\.scale must be 0 or of magnitude in \[2\^-126, 2\^127\]/],
    [{ scale: -1e-300 }, /^options\.scale must be 0 or/],
    [{ softcap: 1e300 }, /^options\.softcap must be 0 or/],
    [{ softcap: 1e-300 }, /^options\.softcap must be 0 or/],
    [{ softcap: 1e38 }, /^options\.scale \/ options\.softcap must be 0 or/],  // scale / cap flushes to 0
  ] as const)
    t.throws(() => attentionSync(q, k, k, opt), { name: 'RangeError', code: 'ERR_SUBQ_ARG', message: re }, JSON.stringify(opt));
  const plain = attentionSync(q, k, k).data as Float32Array;
  for (const opt of [{ softcap: 1e6 }, { scale: 2 ** 127 / 1e30, softcap: 2 ** 127 }, { scale: 0 }]) {
    const o = attentionSync(q, k, k, opt).data as Float32Array;
    t.ok(o.every(Number.isFinite), `${JSON.stringify(opt)}: finite`);
    if ('softcap' in opt && opt.softcap === 1e6) t.ok(o.every((x, i) => Math.abs(x - plain[i]) < 1e-5), 'a huge cap is no cap');
  }
});

t.test('errors carry a stable code', async (t) => {
  const q = f32([1, 2, 8, 16]), k = f32([1, 1, 8, 16]);
  t.throws(() => attentionSync(q, f32([1, 1, 8, 32]), k), { name: 'RangeError', code: 'ERR_SUBQ_SHAPE' });
  t.throws(() => attentionSync(Tensor.zeros('int32', [1, 2, 8, 16]), k, k), { name: 'TypeError', code: 'ERR_SUBQ_DTYPE' });
  t.throws(() => attentionSync(q, k, k, { causal: 'yes' as unknown as boolean }), { name: 'TypeError', code: 'ERR_SUBQ_ARG' });
  t.throws(() => attentionSync(q, k, k, { window: [-2, 0] }), { name: 'RangeError', code: 'ERR_SUBQ_ARG' });
  await t.rejects(native().attention(q, k, k, { scale: 'x' }) as Promise<unknown>, { name: 'TypeError', code: 'ERR_SUBQ_ARG' });
  // The TypeScript layer's own checks carry the same codes.
  t.throws(() => new Tensor('float32', new Float32Array(3), [2, 2]), { name: 'RangeError', code: ErrorCodes.SHAPE });
  t.throws(() => new Tensor('float32', new Int32Array(4), [2, 2]), { name: 'TypeError', code: ErrorCodes.DTYPE });
  t.throws(() => attentionSync({ data: new Float32Array(3), shape: [1, 1, 1, 4] }, k, k), { name: 'RangeError', code: 'ERR_SUBQ_SHAPE', message: /^q: / });
  t.throws(() => attentionSync(q, k, k, 5 as never), { name: 'TypeError', code: ErrorCodes.ARG });
  // A look-alike DeviceBuffer: a TypeError naming the argument, not "Invalid argument".
  const fake = { dtype: 'float32', shape: [1, 2, 8, 16], device: 'cuda', deviceBuffer: { bytes: 1024, device: 0 } };
  t.throws(() => native().attentionSync(fake, k, k), { name: 'TypeError', code: 'ERR_SUBQ_ARG', message: /^q is on cuda:0 but its deviceBuffer is not a DeviceBuffer/ });
});

t.test('SUBQ_* settings that are not understood give one warning each, and defaults', async (t) => {
  const r = runChild(`
    const info = s.backendInfo().cpu;
    console.log(JSON.stringify({ threads: info.threads, hw: info.hardwareThreads }));
  `, { env: { SUBQ_NUM_THREADS: '4x', SUBQ_SIMD: 'avx9000', SUBQ_VECTOR_BITS: '384' } });
  t.equal(r.status, 0, describe(r));
  const { threads, hw } = JSON.parse(r.stdout);
  t.equal(threads, hw, 'SUBQ_NUM_THREADS=4x is not 4');
  t.match(r.stderr, /subquadratic: SUBQ_NUM_THREADS='4x' is ignored: expected an integer in \[1, 1024\]/);
  t.match(r.stderr, /subquadratic: SUBQ_SIMD='avx9000' is ignored: expected scalar, avx2 or avx512/);
  t.match(r.stderr, /subquadratic: SUBQ_VECTOR_BITS='384' is ignored: expected 256, 512 or auto/);
  t.equal(r.stderr.match(/SUBQ_NUM_THREADS/g)?.length, 1, 'once');
  const ok = runChild(`s.backendInfo(); console.log('ok')`, { env: { SUBQ_NUM_THREADS: '3', SUBQ_SIMD: 'avx2', SUBQ_VECTOR_BITS: 'auto' } });
  t.equal(ok.stderr.includes('ignored'), false, 'valid values: no warning');
});
