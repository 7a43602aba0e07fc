// selectiveScan on the CPU against the fp64 recurrence: lengths, widths, states,
// B/C forms, groups, options, dtypes, varlen, SIMD paths, thread counts, extremes.
import t from 'tap';
import { backendInfo, selectiveScanSync, setNumThreads, setSimdLevel, setVectorWidth, Tensor, type FloatDType } from '../lib';
import { bitsEqual } from './helpers';
import { checkScan, runScan, scanInputs, spread, type ScanCase } from './ssm-check';

const dtypes: FloatDType[] = ['float32', 'float16', 'bfloat16'];

// Every option on or off by the bits of i.
function options(i: number): Partial<ScanCase> {
  return { D: !!(i & 1), z: !!(i & 2), bias: !!(i & 4), softplus: !!(i & 8), init: !!(i & 16), BVarying: !(i & 32), CVarying: !(i & 64) };
}

t.test('lengths x states, varying B/C with every option (fp32, odd width)', async (t) => {
  let n = 0;
  for (const L of [1, 7, 128, 2047, 2049])
    for (const N of [1, 16, 64, 256]) {
      if (L > 128 && N === 256) continue;  // covered once at an odd length below
      await checkScan(t, { d: 19, L, N, D: true, z: true, bias: true, softplus: true, init: n % 2 === 0, seed: ++n });
    }
  await checkScan(t, { d: 5, L: 2049, N: 256, softplus: true, init: true, seed: 99 });
  await checkScan(t, { b: 2, d: 3, L: 5000, N: 16, softplus: true, z: true, seed: 98 });
});

t.test('all 128 option combinations (B/C constant or varying, D, z, bias, softplus, init)', async (t) => {
  for (let i = 0; i < 128; i++) await checkScan(t, { b: 2, d: 21, L: 33, N: 5 + (i % 3) * 8, ...options(i), seed: i + 1 });
});

t.test('groups of varying B/C', async (t) => {
  for (const [d, G] of [[24, 2], [24, 3], [24, 24], [40, 4], [34, 2], [48, 3]])
    await checkScan(t, { b: 2, d, L: 57, N: 16, G, softplus: true, z: true, D: true, seed: d * G });
  await checkScan(t, { b: 1, d: 24, L: 40, N: 8, G: 4, BVarying: true, CVarying: false, seed: 5 });
  await checkScan(t, { b: 1, d: 24, L: 40, N: 8, G: 4, BVarying: false, CVarying: true, seed: 6 });
});

t.test('dtypes', async (t) => {
  for (const dtype of dtypes)
    for (let i = 0; i < 8; i++)
      await checkScan(t, { b: 2, d: 37, L: 300 + i, N: [1, 16, 64, 20][i % 4], dtype, ...options(i * 37), seed: i + 7 });
});

t.test('variable-length packed sequences', async (t) => {
  const cases = [[0, 1], [0, 1, 2, 3], [0, 5, 6, 200, 201, 333], [0, 0, 7, 7, 100], [0, 300, 301, 2100]];
  let s = 0;
  for (const cu of cases)
    for (const dtype of dtypes)
      await checkScan(t, { d: 21, L: cu[cu.length - 1], N: 16, cuSeqlens: cu, init: s % 2 === 0, softplus: true, z: true, D: true, dtype, seed: ++s });
});

t.test('async calls', async (t) => {
  await checkScan(t, { b: 2, d: 33, L: 100, N: 16, D: true, z: true, softplus: true, init: true, async: true });
  await checkScan(t, { d: 17, L: 64, N: 4, cuSeqlens: [0, 1, 64], dtype: 'bfloat16', async: true });
});

t.test('large |delta*A| and the softplus threshold give no NaN or Inf', async (t) => {
  for (const deltaScale of [40, 1e4, 1e30])
    for (const softplus of [false, true])
      await checkScan(t, { b: 1, d: 19, L: 50, N: 16, deltaScale, AScale: 1e3, softplus, D: true, z: true, seed: 11 });
  // delta around the threshold 20, and very negative (softplus underflows toward 0).
  await checkScan(t, { d: 19, L: 64, N: 16, deltaScale: 0.1, softplus: true, bias: true, seed: 12 });
  const run = await runScan({ d: 19, L: 64, N: 16, deltaScale: 1e30, AScale: 1e3, softplus: true, seed: 13 });
  t.ok(run.out.toFloat32().every(Number.isFinite), 'finite outputs at delta 1e30');
});

const levels = (['avx512', 'avx2', 'scalar'] as const).filter((l) => {
  const have = backendInfo().cpu.simd;
  return have === 'avx512' || (have === 'avx2' && l !== 'avx512') || l === 'scalar';
});

for (const level of levels) {
  const forms = level === 'avx512' ? ([512, 256] as const) : [undefined];
  for (const form of forms)
    t.test(`the ${level}${form ? ` ${form}-bit` : ''} path`, async (t) => {
      t.teardown(() => {
        setSimdLevel('avx512');
        setVectorWidth('auto');
      });
      t.equal(setSimdLevel(level), level, 'level in effect');
      if (form) t.equal(setVectorWidth(form), form, 'vector width in effect');
      const L = level === 'scalar' ? 70 : 300;
      for (let i = 0; i < 16; i++)
        await checkScan(t, { b: 2, d: 9 + i * 3, L: L + i, N: [1, 16, 64, 7][i % 4], G: i % 3 === 0 ? 3 : 1, dtype: dtypes[i % 3], ...options(i * 5), seed: 50 + i });
      await checkScan(t, { d: 21, L: 100, N: 16, cuSeqlens: [0, 1, 50, 100], init: true, softplus: true });
    });
}

t.test('an output over 8 MiB (streaming stores, rows at 32-byte offsets)', async (t) => {
  await checkScan(t, { d: 64, L: 33000, N: 2, softplus: true, D: true, z: true, seed: 21 });
});

t.test('results do not depend on the thread count', async (t) => {
  t.teardown(() => setNumThreads(backendInfo().cpu.hardwareThreads));
  const c: ScanCase = { b: 3, d: 70, L: 300, N: 16, softplus: true, z: true, D: true, init: true, seed: 4 };
  setNumThreads(1);
  const one = await runScan(c);
  for (const n of [2, 3, 7]) {
    setNumThreads(n);
    const r = await runScan(c);
    t.ok(bitsEqual(r.out, one.out) && bitsEqual(r.lastState, one.lastState), `${n} threads give the bits of 1`);
  }
});

t.test('strided, misaligned views give the bits of contiguous ones', async (t) => {
  for (const dtype of dtypes) {
    const { tensors } = scanInputs({ b: 2, d: 19, L: 77, N: 16, G: 1, D: true, z: true, softplus: true, init: true, dtype });
    const { u, delta, A, B, C, options } = tensors;
    const ref = selectiveScanSync(u, delta, A, B, C, options);
    const out = spread(Tensor.zeros(dtype, [2, 19, 77]), 5);
    const r = selectiveScanSync(spread(u, 3), spread(delta, 7), spread(A, 2), spread(B, 1), spread(C, 9),
      { ...options, z: spread(options.z!, 4), initialState: spread(options.initialState!, 6), out });
    t.ok(bitsEqual(out.contiguous(), ref.out) && bitsEqual(r.lastState, ref.lastState), `${dtype}: same bits`);
  }
});
