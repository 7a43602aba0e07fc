// Quantized attention: B=1, H=8, D in {64, 128}, N in {4096, 16384}, non-causal: our fp32
// attention against INT8 (per-block scales; P.V in fp32, or on integers with pv 'int8') and
// INT4 (per-token scales, smoothQ) Q.K^T,
// with cosine and relative L1 against fp64 unquantized attention beside the speed; and
// decode (1 token, GQA 32/8, 32K cache, D128) from int8 and int4 caches against a bf16
// cache. "vs peer" is the speed-up over the fp32 attention (or the bf16-cache decode).
import { attentionSync, quantizedAttentionSync, quantizeSync, Tensor, type QuantizedAttentionOptions } from '../../lib';
import { attentionRef } from '../../reference/attention';
import { accuracy } from '../../reference/quant';
import type { BenchCase, CaseRun, Family } from '../suite';
import { random } from '../data';

interface Shape {
  N: number;
  D: number;
}

const H = 8;
const flops = (s: Shape) => 4 * s.N * s.N * s.D * H;

// Cosine and relative L1 over 12 rows of every head against fp64 unquantized attention.
function note(s: Shape, q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array): string {
  const rows = Array.from({ length: 12 }, (_, j) => Math.round((j * (s.N - 1)) / 11));
  const ref = attentionRef(q, k, v, { B: 1, Hq: H, Hkv: H, Nq: s.N, Nk: s.N, D: s.D, Dv: s.D }, { rows });
  const a: number[] = [], b: number[] = [];
  for (let h = 0; h < H; h++)
    for (const i of rows)
      for (let x = 0; x < s.D; x++) {
        a.push(out[(h * s.N + i) * s.D + x]);
        b.push(ref.out[(h * s.N + i) * s.D + x]);
      }
  const m = accuracy(a, b);
  return `cos ${m.cosine.toFixed(5)} relL1 ${m.relL1.toFixed(4)}`;
}

type Kind = 'fp32' | 'int8' | 'int8 pv int8' | 'int4';

function prefill(s: Shape, kind: Kind): BenchCase {
  const opts: QuantizedAttentionOptions = kind === 'int4' ? { qkBits: 4, granularity: 'token', smoothQ: true }
    : kind === 'int8 pv int8' ? { pv: 'int8' } : {};
  return {
    family: 'quant',
    backend: kind === 'fp32' ? 'attention fp32' : 'subquadratic',
    label: `${kind} B1 H${H} D${s.D} N${s.N}`,
    series: `${kind} D${s.D}`,
    x: s.N,
    peerKey: `quant D${s.D} N${s.N}`,
    async setup(): Promise<CaseRun> {
      const shape = [1, H, s.N, s.D];
      const n = H * s.N * s.D;
      const [q, k, v] = [1, 2, 3].map((seed) => Tensor.fromFloat32(random(n, seed), shape));
      const out = Tensor.zeros('float32', shape);
      return {
        run: () => (kind === 'fp32' ? attentionSync(q, k, v, { out }) : quantizedAttentionSync(q, k, v, { ...opts, out })),
        work: { flops: flops(s) },
        note: () => note(s, q.data as Float32Array, k.data as Float32Array, v.data as Float32Array, out.data as Float32Array),
      };
    },
  };
}

// Decode from a cache read from memory (four caches in turn). Bytes: the cache as stored.
function decode(kind: 'bf16' | 'int8' | 'int4'): BenchCase {
  const Hq = 32, Hkv = 8, Nk = 32768, D = 128, kv = Hkv * Nk * D;
  return {
    family: 'quant',
    backend: kind === 'bf16' ? 'attention bf16 cache' : 'subquadratic',
    label: `decode ${kind} cache B1 H${Hq}/${Hkv} Nq1 Nk${Nk} D${D}`,
    series: `decode ${kind}`,
    peerKey: 'quant decode',
    async setup(): Promise<CaseRun> {
      const q = Tensor.fromFloat32(random(Hq * D, 1), [1, Hq, 1, D], 'bfloat16');
      const raw = [0, 1, 2, 3].map((i) => [2, 3].map((seed) => Tensor.fromFloat32(random(kv, seed + 2 * i), [1, Hkv, Nk, D], 'bfloat16')));
      const out = Tensor.zeros('bfloat16', [1, Hq, 1, D]);
      const bits = kind === 'int4' ? 4 : 8;
      const caches = kind === 'bf16' ? raw
        : raw.map(([k, v]) => [quantizeSync(k, { bits, granularity: 'token', smooth: true }), quantizeSync(v, { bits, granularity: 'token' })] as const);
      const bytes = kind === 'bf16' ? 2 * kv * 2 : 2 * (kv * bits / 8 + Hkv * Nk * 4);
      let next = 0;
      const call = (i: number) => {
        const [k, v] = caches[i % caches.length];
        if (kind === 'bf16') attentionSync(q, k as Tensor, v as Tensor, { out });
        else quantizedAttentionSync(q, k, v, { out });
      };
      return {
        run: () => call(next++),
        work: { bytes },
        note: () => {
          call(0);
          const [k, v] = raw[0];
          const ref = attentionRef(q.toFloat32(), k.toFloat32(), v.toFloat32(), { B: 1, Hq, Hkv, Nq: 1, Nk, D, Dv: D });
          const m = accuracy(out.toFloat32(), ref.out);
          return `cos ${m.cosine.toFixed(5)} relL1 ${m.relL1.toFixed(4)}`;
        },
      };
    },
  };
}

export const quantFamily: Family = {
  name: 'quant',
  cases: ({ quick }) => {
    const out: BenchCase[] = [];
    for (const D of [64, 128])
      for (const N of quick ? [4096] : [4096, 16384])
        for (const kind of ['fp32', 'int8', 'int8 pv int8', 'int4'] as const) out.push(prefill({ N, D }, kind));
    for (const kind of ['bf16', 'int8', 'int4'] as const) out.push(decode(kind));
    return out;
  },
};
