// XAttention block scoring (the estimate step of block-sparse prefill): B=1, H=8, D=128,
// strides 8 and 16, causal, on structured long-context inputs (bench/data.ts). Its cost
// is meant to be a few percent of dense attention at the same shape (attention family).
import { Tensor, xattentionScoresSync } from '../../lib';
import type { BenchCase, Family } from '../suite';
import { longContextQKV } from '../data';

// Useful FLOPs: 2 per multiply-add of the antidiagonal products over the visible
// reduced pairs (S*D each).
function flops(H: number, N: number, D: number, S: number): number {
  const r = N / S;
  return 2 * ((r * (r + 1)) / 2) * S * D * H;
}

function scoreCase(N: number, S: number): BenchCase {
  const H = 8, D = 128;
  return {
    family: 'xattention',
    backend: 'subquadratic',
    label: `xattentionScores fp32 B1 H${H} D${D} N${N} stride ${S} causal`,
    series: `xattentionScores stride ${S}`,
    x: N,
    async setup() {
      const { q, k } = longContextQKV({ H, N, D, seed: 1 });
      const qt = new Tensor('float32', q, [1, H, N, D]), kt = new Tensor('float32', k, [1, H, N, D]);
      const out = Tensor.zeros('float32', [1, H, N / 128, N / 128]);
      return {
        run: () => xattentionScoresSync(qt, kt, { stride: S, causal: true, out }),
        work: { flops: flops(H, N, D, S) },
      };
    },
  };
}

export const xattentionFamily: Family = {
  name: 'xattention',
  cases: ({ quick }) => (quick ? [4096] : [4096, 16384]).flatMap((N) => [scoreCase(N, 16), scoreCase(N, 8)]),
};
