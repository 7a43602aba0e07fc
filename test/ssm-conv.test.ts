// causalConv1d on the CPU against the fp64 reference: widths 2..8, lengths, dtypes,
// bias, silu, initial / final states, packed sequences, SIMD paths, thread counts.
import t from 'tap';
import { backendInfo, causalConv1dSync, setNumThreads, setSimdLevel, Tensor, type FloatDType } from '../lib';
import { bitsEqual } from './helpers';
import { checkConv, convInputs, spread } from './ssm-check';

const dtypes: FloatDType[] = ['float32', 'float16', 'bfloat16'];

t.test('widths x lengths with bias, silu and initial states in rotation', async (t) => {
  let n = 0;
  for (const w of [2, 3, 4, 5, 6, 7, 8])
    for (const L of [1, 7, 128, 2049]) {
      n++;
      await checkConv(t, { b: 2, d: 13, L, w, bias: n % 2 === 0, silu: n % 3 !== 0, init: n % 4 < 2, seed: n });
    }
  await checkConv(t, { d: 3, L: 5000, w: 4, bias: true, silu: true, init: true });
});

t.test('dtypes', async (t) => {
  for (const dtype of dtypes)
    for (const w of [2, 4, 8]) await checkConv(t, { b: 2, d: 21, L: 300, w, dtype, bias: true, silu: true, init: w !== 4 });
});

t.test('packed sequences with their own states', async (t) => {
  for (const cu of [[0, 1], [0, 1, 2, 3, 10], [0, 0, 5, 4100], [0, 2, 3, 300]])
    for (const dtype of dtypes)
      await checkConv(t, { d: 9, L: cu[cu.length - 1], w: 4, cuSeqlens: cu, init: cu.length % 2 === 0, bias: true, silu: true, dtype });
});

t.test('async', async (t) => {
  await checkConv(t, { b: 2, d: 5, L: 100, w: 3, silu: true, init: true, async: true });
});

t.test('SIMD paths', async (t) => {
  t.teardown(() => void setSimdLevel('avx512'));
  for (const level of ['avx2', 'scalar'] as const) {
    setSimdLevel(level);
    for (const w of [2, 5, 8]) await checkConv(t, { b: 2, d: 7, L: 77, w, bias: true, silu: true, init: true, dtype: dtypes[w % 3] });
  }
});

t.test('fp32 outputs over 8 MB (without silu: streaming stores from each row\'s first 64-byte line) on every SIMD path', async (t) => {
  t.teardown(() => void setSimdLevel('avx512'));
  const levels = ['avx512', 'avx2', 'scalar'] as const;
  for (const [i, level] of levels.entries()) {
    setSimdLevel(level);
    // Odd lengths: rows start at every offset within a line.
    await checkConv(t, { b: 1, d: 67, L: 31337, w: 2 + 2 * i, bias: i !== 1, silu: i === 2, init: i === 0 });
  }
  await checkConv(t, { d: 33, L: 70001, w: 4, cuSeqlens: [0, 3, 40003, 70001], bias: true, init: true });
});

t.test('results do not depend on the thread count', async (t) => {
  t.teardown(() => setNumThreads(backendInfo().cpu.hardwareThreads));
  setNumThreads(1);
  const one = await checkConv(t, { b: 2, d: 31, L: 500, w: 4, silu: true, init: true });
  for (const n of [2, 5]) {
    setNumThreads(n);
    const r = await checkConv(t, { b: 2, d: 31, L: 500, w: 4, silu: true, init: true });
    t.ok(bitsEqual(r.out, one.out), `${n} threads give the bits of 1`);
  }
});

t.test('strided, misaligned views give the bits of contiguous ones', async (t) => {
  for (const dtype of dtypes) {
    const { tensors } = convInputs({ b: 2, d: 9, L: 100, w: 4, dtype, bias: true, silu: true, init: true });
    const { x, weight, options } = tensors;
    const ref = causalConv1dSync(x, weight, options);
    const out = spread(Tensor.zeros(dtype, [2, 9, 100]), 3);
    const r = causalConv1dSync(spread(x, 5), spread(weight, 2), { ...options, initialStates: spread(options.initialStates!, 1), out });
    t.ok(bitsEqual(out.contiguous(), ref.out) && bitsEqual(r.finalStates, ref.finalStates), `${dtype}: same bits`);
  }
});
