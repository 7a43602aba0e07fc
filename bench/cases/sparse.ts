// Sub-quadratic prefill: block-sparse attention at 10% and 100% density against our dense
// kernel on the same inputs (B=1, H=8, block 128), N from 4K up; time, density and error.
// And XAttention end to end (scoring, selection, block-sparse attention) on structured
// long-context inputs against dense attention on them: time, kept density, and the output's
// difference from dense (the price of the blocks it skips).
import { attentionSync, blockMaskToIndices, blockSparseAttentionSync, Tensor, xattention, type FloatDType } from '../../lib';
import { attentionRef } from '../../reference/attention';
import { blockKeep, randomBlockMask } from '../../reference/sparse';
import type { BenchCase, CaseRun, Family } from '../suite';
import { longContextQKV, random, relError, relRms } from '../data';

interface Shape {
  H: number;
  N: number;
  D: number;
  dtype: FloatDType;
}

const block = 128;
const tag = (s: Shape) => `${s.dtype === 'float32' ? 'fp32' : 'bf16'} B1 H${s.H} D${s.D} N${s.N}`;
const denseFlops = (s: Shape) => 4 * s.H * s.N * s.N * s.D;

function inputs(s: Shape) {
  const shape = [1, s.H, s.N, s.D], n = s.H * s.N * s.D;
  const [q, k, v] = [1, 2, 3].map((seed) => Tensor.fromFloat32(random(n, seed), shape, s.dtype));
  return { q, k, v, out: Tensor.zeros(s.dtype, shape) };
}

// Max error over sampled rows of every head against the fp64 reference under `keep`.
function sampledError(s: Shape, t: ReturnType<typeof inputs>, keep?: (b: number, h: number, i: number, j: number) => boolean): number {
  const rows = Array.from({ length: 8 }, (_, j) => Math.round((j * (s.N - 1)) / 7));
  const ref = attentionRef(t.q.toFloat32(), t.k.toFloat32(), t.v.toFloat32(), { B: 1, Hq: s.H, Hkv: s.H, Nq: s.N, Nk: s.N, D: s.D, Dv: s.D }, { rows, keep });
  const o = t.out.toFloat32();
  const row = (a: ArrayLike<number>, h: number, i: number) => (a as Float32Array).subarray((h * s.N + i) * s.D, (h * s.N + i + 1) * s.D);
  return relError(Array.from({ length: s.H }, (_, h) => rows.map((i) => [row(o, h, i), row(ref.out, h, i)] as const)).flat());
}

function dense(s: Shape): BenchCase {
  return {
    family: 'sparse',
    backend: 'subquadratic dense',
    label: `dense ${tag(s)}`,
    series: `dense ${s.dtype === 'float32' ? 'fp32' : 'bf16'} D${s.D}`,
    x: s.N,
    peerKey: `sparse ${tag(s)}`,
    async setup(): Promise<CaseRun> {
      const t = inputs(s);
      return {
        run: () => attentionSync(t.q, t.k, t.v, { out: t.out }),
        work: { flops: denseFlops(s) },
        error: () => sampledError(s, t),
      };
    },
  };
}

function blockSparse(s: Shape, density: number): BenchCase {
  return {
    family: 'sparse',
    backend: 'subquadratic',
    label: `block-sparse ${Math.round(density * 100)}% ${tag(s)}`,
    series: `block-sparse ${Math.round(density * 100)}% ${s.dtype === 'float32' ? 'fp32' : 'bf16'} D${s.D}`,
    x: s.N,
    peerKey: density === 0.1 || density === 1 ? `sparse ${tag(s)}` : undefined,
    async setup(): Promise<CaseRun> {
      const t = inputs(s);
      const nb = Math.ceil(s.N / block);
      const mask = randomBlockMask(1, s.H, nb, nb, density, 7);
      const kept = mask.reduce((a, x) => a + x, 0) / mask.length;
      const ix = blockMaskToIndices(new Tensor('uint8', mask, [1, s.H, nb, nb]));
      return {
        run: () => blockSparseAttentionSync(t.q, t.k, t.v, ix, { out: t.out, blockSize: block }),
        // Useful FLOPs are those of the kept blocks.
        work: { flops: denseFlops(s) * kept },
        error: () => sampledError(s, t, blockKeep({ block, mask, Hm: s.H }, s.H, s.N, s.N)),
      };
    },
  };
}

// Structured inputs (bench/data.ts: sinks, a local band, retrieval stripes, a diffuse
// remainder, default concentration), fp32, one set per shape.
function structured(s: Shape) {
  const shape = [1, s.H, s.N, s.D];
  const { q, k, v } = longContextQKV({ H: s.H, N: s.N, D: s.D, seed: 1 });
  const [qt, kt, vt] = [q, k, v].map((x) => new Tensor('float32', x, shape));
  return { q: qt, k: kt, v: vt, out: Tensor.zeros('float32', shape) };
}

function denseStructured(s: Shape): BenchCase {
  return {
    family: 'sparse',
    backend: 'subquadratic dense',
    label: `dense structured ${tag(s)}`,
    series: `dense structured fp32 D${s.D}`,
    x: s.N,
    peerKey: `xattention ${tag(s)}`,
    async setup(): Promise<CaseRun> {
      const t = structured(s);
      return { run: () => attentionSync(t.q, t.k, t.v, { out: t.out }), work: { flops: denseFlops(s) } };
    },
  };
}

function xattentionCase(s: Shape, threshold: number): BenchCase {
  return {
    family: 'sparse',
    backend: 'subquadratic',
    label: `xattention threshold ${threshold} stride 8 structured ${tag(s)}`,
    series: `xattention ${threshold} fp32 D${s.D}`,
    x: s.N,
    peerKey: `xattention ${tag(s)}`,
    async setup(): Promise<CaseRun> {
      const t = structured(s);
      const dense = attentionSync(t.q, t.k, t.v).toFloat32();
      let last: Awaited<ReturnType<typeof xattention>> | undefined;
      return {
        run: async () => (last = await xattention(t.q, t.k, t.v, { threshold, stride: 8 })),
        // Useful FLOPs: those of the kept blocks (read after the runs).
        work: {
          get flops() {
            return denseFlops(s) * (last?.density ?? 1);
          },
        },
        note: () => `density ${last!.density.toFixed(3)}, relative RMS difference from dense ${relRms(last!.out.toFloat32(), dense).toExponential(1)}`,
      };
    },
  };
}

export const sparseFamily: Family = {
  name: 'sparse',
  cases: ({ quick }) => {
    const out: BenchCase[] = [];
    const shapes: Shape[] = [
      { H: 8, N: 0, D: 64, dtype: 'float32' },
      { H: 8, N: 0, D: 128, dtype: 'float32' },
      { H: 8, N: 0, D: 64, dtype: 'bfloat16' },
    ];
    for (const base of shapes)
      for (const N of quick ? [4096, 8192] : [4096, 16384, 32768]) {
        const s = { ...base, N };
        out.push(dense(s), blockSparse(s, 0.1), blockSparse(s, 1));
      }
    for (const N of quick ? [4096, 8192] : [8192, 16384, 32768]) {
      const s: Shape = { H: 8, N, D: 64, dtype: 'float32' };
      out.push(denseStructured(s), xattentionCase(s, 0.9), xattentionCase(s, 0.99));
    }
    return out;
  },
};
