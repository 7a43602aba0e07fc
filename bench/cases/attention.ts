// Dense attention: B=1, H=8, D in {64, 128}, N in {1024, 4096, 16384}, causal and
// not, fp32 and bf16; fp32 D64 also as a default call (a new output each time);
// onnxruntime-node's MultiHeadAttention on the same fp32 shapes; and decode against a
// long cache.
import { attention, attentionSync, backendInfo, Tensor, type FloatDType } from '../../lib';
import { attentionRef } from '../../reference/attention';
import type { BenchCase, CaseRun, Family } from '../suite';
import { random, relError } from '../data';
import { loadOrt, mhaModel } from '../peers/onnx';

interface Shape {
  B: number;
  H: number;
  N: number;
  D: number;
  causal: boolean;
  dtype: FloatDType;
}

// Useful FLOPs: 2 per multiply-add in Q.K^T and in P.V over the visible pairs.
function flops(s: Shape): number {
  const pairs = s.causal ? (s.N * (s.N + 1)) / 2 : s.N * s.N;
  return 2 * pairs * (s.D + s.D) * s.B * s.H;
}

// Max error over a sample of rows in every head, relative to the output scale.
// got(h, i) returns row i of head h as numbers.
function sampledError(s: Shape, q: Float32Array, k: Float32Array, v: Float32Array, got: (h: number, i: number) => ArrayLike<number>): number {
  const rows = Array.from({ length: 12 }, (_, j) => Math.round((j * (s.N - 1)) / 11));
  const dims = { B: s.B, Hq: s.H, Hkv: s.H, Nq: s.N, Nk: s.N, D: s.D, Dv: s.D };
  const ref = attentionRef(q, k, v, dims, { causal: s.causal, rows });
  const row = (h: number, i: number) => ref.out.subarray((h * s.N + i) * s.D, (h * s.N + i + 1) * s.D);
  return relError(Array.from({ length: s.H }, (_, h) => rows.map((i) => [got(h, i), row(h, i)] as const)).flat());
}

// bf16 rows name the path they take (backendInfo().cpu.attentionBf16: AVX512-BF16 dot
// products or widened to fp32).
function label(s: Shape): string {
  const path = s.dtype === 'float32' ? '' : ` (${backendInfo().cpu.attentionBf16})`;
  return `${s.dtype === 'float32' ? 'fp32' : 'bf16'} B${s.B} H${s.H} D${s.D} N${s.N}${s.causal ? ' causal' : ''}${path}`;
}

// `fresh`: the default call, as users write it: `await attention(q, k, v)`, a new
// output each time and the async call's copy of its inputs (what both cost shows
// against the reused-buffer row).
function ours(s: Shape, fresh = false): BenchCase {
  const call = fresh ? ' default call' : '';
  return {
    family: 'attention',
    backend: 'subquadratic',
    label: label(s) + call,
    series: `subquadratic ${s.dtype === 'float32' ? 'fp32' : 'bf16'} D${s.D}${s.causal ? ' causal' : ''}${call}`,
    x: s.N,
    peerKey: s.dtype === 'float32' ? `attention ${label(s)}` : undefined,
    async setup(): Promise<CaseRun> {
      const shape = [s.B, s.H, s.N, s.D];
      const n = s.B * s.H * s.N * s.D;
      const [q, k, v] = [1, 2, 3].map((seed) => Tensor.fromFloat32(random(n, seed), shape, s.dtype));
      let out = Tensor.zeros(s.dtype, shape);
      return {
        run: fresh ? async () => (out = await attention(q, k, v, { causal: s.causal })) : () => attentionSync(q, k, v, { causal: s.causal, out }),
        work: { flops: flops(s) },
        error: () => {
          const o = out.toFloat32();
          return sampledError(s, q.toFloat32(), k.toFloat32(), v.toFloat32(), (h, i) => o.subarray((h * s.N + i) * s.D, (h * s.N + i + 1) * s.D));
        },
      };
    },
  };
}

function onnxruntime(s: Shape): BenchCase {
  return {
    family: 'attention',
    backend: 'onnxruntime-node',
    label: label(s),
    series: `onnxruntime-node fp32 D${s.D}${s.causal ? ' causal' : ''}`,
    x: s.N,
    peerKey: `attention ${label(s)}`,
    async setup() {
      const ort = loadOrt();
      if (!ort) return { skip: 'onnxruntime-node not installed' };
      const scoresBytes = s.B * s.H * s.N * s.N * 4;
      if (scoresBytes > 2 ** 31) return { skip: `MultiHeadAttention would store ${(scoresBytes / 2 ** 30).toFixed(1)} GiB of scores` };
      const threads = backendInfo().cpu.threads;
      const session = await ort.InferenceSession.create(mhaModel(s.B, s.H, s.N, s.N, s.D, s.causal), {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
      // ORT wants [B, N, H*D]; the data are the same values as ours, re-laid out.
      const n = s.B * s.H * s.N * s.D;
      const bhnd = [1, 2, 3].map((seed) => random(n, seed));
      const bnhd = bhnd.map((x) => {
        const y = new Float32Array(n);
        for (let h = 0; h < s.H; h++)
          for (let i = 0; i < s.N; i++) y.set(x.subarray((h * s.N + i) * s.D, (h * s.N + i + 1) * s.D), (i * s.H + h) * s.D);
        return y;
      });
      const dims = [s.B, s.N, s.H * s.D];
      const feeds = { q: new ort.Tensor('float32', bnhd[0], dims), k: new ort.Tensor('float32', bnhd[1], dims), v: new ort.Tensor('float32', bnhd[2], dims) };
      let last: Float32Array | undefined;
      return {
        run: async () => {
          last = (await session.run(feeds)).out.data as Float32Array;
        },
        work: { flops: flops(s) },
        error: () => sampledError(s, bhnd[0], bhnd[1], bhnd[2], (h, i) => last!.subarray((i * s.H + h) * s.D, (i * s.H + h + 1) * s.D)),
      };
    },
  };
}

// Decode: one query token, GQA 32/8, a 32768-key cache, read from memory (four caches
// in turn, 268 MB in fp32). Memory-bound: the rate is the K and V bytes read, against
// the copy bandwidth.
function decode(dtype: FloatDType): BenchCase {
  const B = 1, Hq = 32, Hkv = 8, Nk = 32768, D = 128, esz = dtype === 'float32' ? 4 : 2;
  return {
    family: 'attention',
    backend: 'subquadratic',
    label: `decode ${dtype === 'float32' ? 'fp32' : 'bf16'} B${B} H${Hq}/${Hkv} Nq1 Nk${Nk} D${D}`,
    series: `decode ${dtype === 'float32' ? 'fp32' : 'bf16'}`,
    async setup(): Promise<CaseRun> {
      const kv = B * Hkv * Nk * D;
      const q = Tensor.fromFloat32(random(B * Hq * D, 1), [B, Hq, 1, D], dtype);
      const caches = [0, 1, 2, 3].map((i) => [2, 3].map((seed) => Tensor.fromFloat32(random(kv, seed + 2 * i), [B, Hkv, Nk, D], dtype)));
      const out = Tensor.zeros(dtype, [B, Hq, 1, D]);
      let next = 0;
      return {
        run: () => {
          const [k, v] = caches[next++ % caches.length];
          attentionSync(q, k, v, { out });
        },
        work: { bytes: 2 * kv * esz },
        error: () => {
          const [k, v] = caches[0];
          attentionSync(q, k, v, { out });
          const ref = attentionRef(q.toFloat32(), k.toFloat32(), v.toFloat32(), { B, Hq, Hkv, Nq: 1, Nk, D, Dv: D });
          return relError([[out.toFloat32(), ref.out]]);
        },
      };
    },
  };
}

export const attentionFamily: Family = {
  name: 'attention',
  cases: ({ quick }) => {
    const out: BenchCase[] = [];
    for (const D of [64, 128])
      for (const causal of [false, true])
        for (const N of quick ? [1024, 4096] : [1024, 4096, 16384]) {
          const s: Shape = { B: 1, H: 8, N, D, causal, dtype: 'float32' };
          out.push(ours(s), ours({ ...s, dtype: 'bfloat16' }), onnxruntime(s));
          if (D === 64) out.push(ours(s, true));
        }
    out.push(decode('float32'), decode('bfloat16'));
    return out;
  },
};
