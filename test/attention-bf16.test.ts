// bfloat16 attention's two CPU paths (docs/semantics.md): Q.K^T and P.V on AVX512-BF16
// dot products with P rounded to bf16 ('avx512-bf16', where the CPU has it at the
// AVX-512 level), and the inputs widened to fp32 ('fp32-widen': SIMD capped below
// AVX-512, SUBQ_BF16_DOT=0, or a CPU without AVX512-BF16). Both against the fp64
// reference on odd shapes and every option, dense and block-sparse; which path ran.
import t from 'tap';
import { attentionSync, backendInfo, blockSparseAttentionSync, setNumThreads, setSimdLevel, setVectorWidth, Tensor } from '../lib';
import { checkCase, type Case } from './attention-check';
import { runChild, describe as describeChild } from './child';
import { bitsEqual, randomArray } from './helpers';
import { randomBlockMask } from '../reference/sparse';

const start = backendInfo().cpu;
// Why the AVX512-BF16 path cannot run in this process, or false when it can.
const noDot = !start.features.avx512bf16
  ? 'this CPU lacks AVX512-BF16 (avx512_bf16): bf16 attention is widened to fp32'
  : start.simd !== 'avx512'
    ? `the SIMD level is capped at ${start.simd} (SUBQ_SIMD): the AVX512-BF16 path needs avx512`
    : start.attentionBf16 !== 'avx512-bf16' ? 'SUBQ_BF16_DOT=0 turns the AVX512-BF16 path off in this process' : false;

const restore = () => {
  setSimdLevel(start.simd);
  setVectorWidth('auto');
};

// Paths to run: the dot path at both vector widths where it is available, and the widened
// path (the SIMD level capped at avx2, or scalar on a CPU without AVX2).
interface Path {
  name: string;
  expect: 'avx512-bf16' | 'fp32-widen';
  select: () => void;
}
const dotPaths: Path[] = noDot
  ? []
  : ([512, 256] as const).map((bits) => ({
      name: `avx512-bf16 ${bits}-bit`,
      expect: 'avx512-bf16' as const,
      select: () => {
        setSimdLevel('avx512');
        setVectorWidth(bits);
      },
    }));
const widenLevel = start.simd === 'scalar' ? 'scalar' : 'avx2';
const widenPath: Path = { name: `fp32-widen (${widenLevel})`, expect: 'fp32-widen', select: () => void setSimdLevel(widenLevel) };
const paths = [...dotPaths, widenPath];

// Odd head dims (a zero pads the last pair), odd key counts and odd band edges (a pair
// that straddles the edge of the visible range), GQA, Nq != Nk, every option.
const oddCases: Case[] = [
  { Hq: 2, Hkv: 1, Nq: 37, Nk: 61, D: 33, causal: true },
  { Hq: 3, Hkv: 3, Nq: 100, Nk: 77, D: 17, Dv: 9, window: [20, 5] },
  { Hq: 4, Hkv: 2, Nq: 129, Nk: 255, D: 65, softcap: 2.5, causal: true },
  { B: 2, Hq: 4, Hkv: 1, Nq: 50, Nk: 193, D: 127, Dv: 31, layout: 'bnhd', window: [31, 0] },
  { Hq: 2, Hkv: 2, Nq: 200, Nk: 201, D: 1, Dv: 3 },
  { Hq: 1, Hkv: 1, Nq: 60, Nk: 385, D: 96, amplitude: 4, window: [101, 33], softcap: 5 },
  { Hq: 8, Hkv: 2, Nq: 3, Nk: 999, D: 48, window: [300, 0] },
  { Hq: 2, Hkv: 1, Nq: 70, Nk: 70, D: 64, scale: 0.37, window: [0, 0] },
  { B: 2, Hq: 2, Hkv: 2, Nq: 193, Nk: 17, D: 80, causal: true, layout: 'bnhd' },  // rows that see no key
];

t.test('backendInfo names the bf16 path, and capping the SIMD level widens', { skip: noDot }, async (t) => {
  t.teardown(restore);
  t.equal(backendInfo().cpu.attentionBf16, 'avx512-bf16', 'AVX512-BF16 at the AVX-512 level');
  t.equal(setSimdLevel('avx2'), 'avx2');
  t.equal(backendInfo().cpu.attentionBf16, 'fp32-widen', 'capped at avx2');
  setSimdLevel('avx512');
  t.equal(backendInfo().cpu.attentionBf16, 'avx512-bf16', 'back at avx512');
});

t.test('without the AVX512-BF16 path, backendInfo says fp32-widen', { skip: !noDot && 'this CPU runs the AVX512-BF16 path (the test above)' }, async (t) => {
  t.equal(backendInfo().cpu.attentionBf16, 'fp32-widen');
});

for (const p of paths)
  t.test(`odd shapes and every option on the ${p.name} path`, async (t) => {
    t.teardown(restore);
    p.select();
    t.equal(backendInfo().cpu.attentionBf16, p.expect, 'path in effect');
    for (const [i, c] of oddCases.entries()) await checkCase(t, { ...c, dtype: 'bfloat16', seed: 40 + i });
  });

for (const p of paths)
  t.test(`block-sparse calls on the ${p.name} path`, async (t) => {
    t.teardown(restore);
    p.select();
    const blocks = (n: number, bs: number) => Math.ceil(n / bs);
    let seed = 600;
    for (const block of [64, 128] as const)
      for (const c of [
        { Hq: 4, Hkv: 2, Nq: 301, Nk: 333, D: 41, causal: true },
        { Hq: 2, Hkv: 1, Nq: 130, Nk: 517, D: 64, window: [201, 37] as [number, number], softcap: 3 },
        { B: 2, Hq: 4, Hkv: 4, Nq: 257, Nk: 129, D: 96, layout: 'bnhd' as const },
      ]) {
        const Hm = c.Hq;
        const mask = randomBlockMask(c.B ?? 1, Hm, blocks(c.Nq, block), blocks(c.Nk, block), 0.5, seed);
        await checkCase(t, { ...c, dtype: 'bfloat16', seed: seed++, sparse: { block, mask, Hm } });
      }
  });

// The widened path computes in fp32 on the exact fp32 values of the bf16 inputs: its
// output is the fp32 call's output rounded to bf16, bit for bit. The dot path is not.
function widenedEqualsFp32(q: Tensor, k: Tensor, v: Tensor, opts: { causal?: boolean; window?: [number, number] }) {
  const r = attentionSync(q, k, v, { ...opts, returnLse: true });
  const f = (x: Tensor) => Tensor.fromFloat32(x.toFloat32(), x.shape, 'float32');
  const w = attentionSync(f(q), f(k), f(v), { ...opts, returnLse: true });
  return bitsEqual(r.out, Tensor.fromFloat32(w.out.toFloat32(), w.out.shape, 'bfloat16')) && bitsEqual(r.lse, w.lse);
}

const bf16Inputs = (B: number, H: number, N: number, D: number, seed: number) =>
  [0, 1, 2].map((i) => Tensor.fromFloat32(randomArray(B * H * N * D, seed + i), [B, H, N, D], 'bfloat16'));

t.test('the widened path is fp32 attention on the bf16 values; the dot path differs from it', async (t) => {
  t.teardown(restore);
  const [q, k, v] = bf16Inputs(1, 2, 300, 64, 7);
  widenPath.select();
  t.ok(widenedEqualsFp32(q, k, v, { causal: true }), `${widenPath.name}: the fp32 result rounded to bf16`);
  for (const p of dotPaths) {
    p.select();
    t.notOk(widenedEqualsFp32(q, k, v, { causal: true }), `${p.name}: not the widened result (P is rounded to bf16)`);
  }
});

t.test('the dot path: the same bits at both widths and any thread count', { skip: noDot }, async (t) => {
  const all = backendInfo().cpu.hardwareThreads;
  t.teardown(() => {
    restore();
    setNumThreads(all);
  });
  const [q, k, v] = bf16Inputs(2, 3, 301, 72, 11);
  const opts = { window: [90, 7] as [number, number], softcap: 6, returnLse: true as const };
  const results = [];
  for (const p of dotPaths)
    for (const threads of [1, Math.max(all, 3)]) {
      p.select();
      setNumThreads(threads);
      results.push(attentionSync(q, k, v, opts));
    }
  for (const r of results.slice(1)) t.ok(bitsEqual(r.out, results[0].out) && bitsEqual(r.lse, results[0].lse), 'output and lse');
  // Block-sparse too (64-query tiles at 512 bits).
  const mask = new Tensor('uint8', randomBlockMask(2, 3, 5, 5, 0.6, 3), [2, 3, 5, 5]);
  const sparse = dotPaths.map((p) => {
    p.select();
    return blockSparseAttentionSync(q, k, v, mask, { blockSize: 64, causal: true });
  });
  t.ok(bitsEqual(sparse[0], sparse[1]), 'block-sparse: 512 and 256 bits');
});

t.test('SUBQ_BF16_DOT=0 gives the widened path at the AVX-512 level; a bad value warns', { skip: noDot }, async (t) => {
  const code = `
    let x = 12345;
    const rnd = (n) => Float32Array.from({ length: n }, () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5);
    const q = [0, 1, 2].map(() => s.Tensor.fromFloat32(rnd(2 * 300 * 64), [1, 2, 300, 64], 'bfloat16'));
    const r = s.attentionSync(q[0], q[1], q[2], { causal: true });
    const f = (x) => s.Tensor.fromFloat32(x.toFloat32(), x.shape, 'float32');
    const w = s.attentionSync(f(q[0]), f(q[1]), f(q[2]), { causal: true }).toFloat32();
    const want = s.Tensor.fromFloat32(w, [1, 2, 300, 64], 'bfloat16').data;
    const same = Buffer.compare(Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength), Buffer.from(want.buffer, want.byteOffset, want.byteLength)) === 0;
    const info = s.backendInfo().cpu;
    console.log(JSON.stringify({ path: info.attentionBf16, simd: info.simd, same }));
  `;
  const off = runChild(code, { env: { SUBQ_BF16_DOT: '0' } });
  t.equal(off.status, 0, describeChild(off));
  t.same(JSON.parse(off.stdout), { path: 'fp32-widen', simd: 'avx512', same: true }, 'widened, bit for bit, at avx512');
  const bad = runChild(`console.log(s.backendInfo().cpu.attentionBf16)`, { env: { SUBQ_BF16_DOT: 'yes' } });
  t.equal(bad.status, 0, describeChild(bad));
  t.equal(bad.stdout.trim(), 'avx512-bf16', 'a bad value keeps the default');
  t.match(bad.stderr, /subquadratic: SUBQ_BF16_DOT='yes' is ignored: expected 0 or 1/);
});

for (const p of paths)
  t.test(`NaN keys propagate to exactly the rows that see them on the ${p.name} path`, async (t) => {
    t.teardown(restore);
    p.select();
    // Key 11 is odd: its pair partner (key 10) and the rows that see only key 10 stay clean.
    const N = 40, D = 15;
    const kd = new Float32Array(N * D).fill(0.125);
    kd[11 * D + 3] = NaN;
    const qd = new Float32Array(N * D).fill(0.25), vd = new Float32Array(N * D).fill(0.5);
    const mk = (d: Float32Array) => Tensor.fromFloat32(d, [1, 1, N, D], 'bfloat16');
    const out = attentionSync(mk(qd), mk(kd), mk(vd), { causal: true }).toFloat32();
    let nan = 0, clean = 0;
    for (let i = 0; i < N; i++) {
      const row = out.subarray(i * D, i * D + D);
      if (i >= 11) nan += Number(row.every(Number.isNaN));
      else clean += Number(row.every((x) => x === 0.5));
    }
    t.equal(nan, N - 11, 'rows 11.. see key 11: NaN');
    t.equal(clean, 11, 'rows 0..10 do not: 0.5');
  });
