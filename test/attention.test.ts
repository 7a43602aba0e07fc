// CPU attention against the fp64 reference: shapes, options, dtypes, SIMD paths.
import t from 'tap';
import { backendInfo, setSimdLevel, setVectorWidth, type FloatDType } from '../lib';
import { checkCase, type Case } from './attention-check';

const lengths = [1, 17, 113, 128, 1023];
const headDims = [16, 64, 80, 96, 128, 256];
const dtypes: FloatDType[] = ['float32', 'float16', 'bfloat16'];
const heads: [number, number][] = [[1, 1], [2, 1], [8, 1], [8, 2], [8, 8]];

// The eight causal x window x softcap combinations, by index.
function options(i: number, Nq: number, Nk: number): Partial<Case> {
  const causal = (i & 1) === 1;
  const window: [number, number] | undefined =
    i & 2 ? [Math.max(1, Math.floor(Nk / 3)), causal ? 0 : (i & 4 ? -1 : Math.floor(Nq / 4))] : undefined;
  return { causal, window, softcap: i & 4 ? 3.5 : undefined };
}

// Every path this CPU has: AVX-512 at both vector widths, AVX2, scalar.
const have = backendInfo().cpu.simd;
const paths: ['avx512' | 'avx2' | 'scalar', number][] = [
  ...(have === 'avx512' ? ([['avx512', 512], ['avx512', 256]] as ['avx512', number][]) : []),
  ...(have !== 'scalar' ? ([['avx2', 256]] as ['avx2', number][]) : []),
  ['scalar', 32],
];

t.test('every length pair and head dim (fp32, option combinations in rotation)', async (t) => {
  let n = 0;
  for (const Nq of lengths)
    for (const Nk of lengths)
      for (const D of headDims) {
        const o = options(n++, Nq, Nk);
        await checkCase(t, { Hq: 2, Hkv: 1, Nq, Nk, D, ...o, seed: n });
      }
});

for (const [level, bits] of paths) {
  t.test(`options x dtypes x heads on the ${level} ${bits}-bit path`, async (t) => {
    t.teardown(() => {
      setSimdLevel('avx512');
      setVectorWidth('auto');
    });
    t.equal(setSimdLevel(level), level, 'level in effect');
    if (level === 'avx512') t.equal(setVectorWidth(bits as 256 | 512), bits, 'vector width in effect');
    const shapes: [number, number][] = level === 'scalar' ? [[17, 113], [113, 17]] : [[17, 113], [113, 17], [128, 128], [1, 1023]];
    let n = 0;
    for (const [Nq, Nk] of shapes)
      for (const D of [64, 80])
        for (let i = 0; i < 8; i++)
          for (const dtype of dtypes) {
            const [Hq, Hkv] = heads[n % heads.length];
            await checkCase(t, { B: 1 + (n % 2), Hq, Hkv, Nq, Nk, D, dtype, ...options(i, Nq, Nk), seed: ++n });
          }
  });
}

t.test('decode (at most 8 query rows per kv head): long keys split into ranges and merged, on every path', async (t) => {
  t.teardown(() => {
    setSimdLevel('avx512');
    setVectorWidth('auto');
  });
  const cases: Case[] = [
    { B: 2, Hq: 8, Hkv: 2, Nq: 1, Nk: 5000, D: 128, lse: true },
    { Hq: 4, Hkv: 1, Nq: 2, Nk: 3001, D: 80, Dv: 48, causal: true },
    { Hq: 1, Hkv: 1, Nq: 8, Nk: 2000, D: 33, window: [1500, 0], softcap: 3 },
    { Hq: 2, Hkv: 1, Nq: 1, Nk: 4096, D: 64, amplitude: 4, lse: true },
    { Hq: 2, Hkv: 1, Nq: 3, Nk: 2, D: 16, causal: true, lse: true },  // row 0 of each head sees no key
    { Hq: 8, Hkv: 8, Nq: 1, Nk: 77, D: 256, window: [10, 0] },
    { B: 2, Hq: 4, Hkv: 2, Nq: 1, Nk: 1500, D: 72, layout: 'bnhd' },  // rows of K and V strided by the heads
  ];
  for (const [level, bits] of paths) {
    setSimdLevel(level);
    if (level === 'avx512') setVectorWidth(bits as 256 | 512);
    for (const [i, c] of cases.entries())
      for (const dtype of level === 'scalar' ? (['float32'] as FloatDType[]) : dtypes)
        await checkCase(t, { ...c, dtype, seed: 100 + i });
  }
});

t.test('value head dim differs from the query/key head dim', async (t) => {
  for (const [D, Dv] of [[64, 32], [16, 128], [3, 5], [1, 1], [256, 256], [33, 200], [128, 64]])
    for (const dtype of dtypes) await checkCase(t, { Hq: 2, Hkv: 1, Nq: 45, Nk: 71, D, Dv, dtype, causal: D % 2 === 1 });
});

t.test('bnhd layout, custom scale, peaky softmax, async', async (t) => {
  for (const dtype of dtypes) {
    await checkCase(t, { B: 2, Hq: 4, Hkv: 2, Nq: 113, Nk: 113, D: 64, dtype, layout: 'bnhd', causal: true });
    await checkCase(t, { Hq: 2, Hkv: 2, Nq: 64, Nk: 200, D: 96, dtype, scale: 0.3, window: [20, 5] });
    await checkCase(t, { Hq: 1, Hkv: 1, Nq: 128, Nk: 128, D: 128, dtype, amplitude: 4, async: true });
  }
});

t.test('fully masked rows give output 0 and lse -inf', async (t) => {
  // Causal with Nq > Nk: the first Nq - Nk rows see no key.
  const r = await checkCase(t, { Nq: 17, Nk: 5, D: 16, causal: true });
  const out = r.out.toFloat32(), lse = r.lse!.toFloat32();
  for (let i = 0; i < 12; i++) {
    t.equal(lse[i], -Infinity, `row ${i} lse`);
    t.ok(out.subarray(i * 16, i * 16 + 16).every((x) => x === 0), `row ${i} output is 0`);
  }
  t.ok(Number.isFinite(lse[12]), 'row 12 sees key 0');
  // A window far from the diagonal leaves rows empty too.
  await checkCase(t, { Nq: 40, Nk: 3, D: 8, window: [1, 1], dtype: 'bfloat16' });
  await checkCase(t, { Nq: 9, Nk: 300, D: 24, window: [0, 0], softcap: 2 });
});
