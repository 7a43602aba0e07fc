// Merging attention states by LSE (split-KV decode, chunked prefill): memory-bound,
// so its rate is the compulsory traffic (read o1, o2, lse1, lse2; write out, lse)
// against the copy bandwidth measured in the same run.
import { mergeAttentionStatesSync, Tensor } from '../../lib';
import { mergeRef } from '../../reference/merge';
import type { BenchCase, Family } from '../suite';
import { random, relError } from '../data';

function mergeCase(B: number, H: number, N: number, D: number): BenchCase {
  return {
    family: 'merge',
    backend: 'subquadratic',
    label: `mergeAttentionStates fp32 B${B} H${H} N${N} D${D}`,
    series: `mergeAttentionStates D${D}`,
    x: N,
    async setup() {
      const rows = B * H * N;
      const o1 = new Tensor('float32', random(rows * D, 1), [B, H, N, D]);
      const o2 = new Tensor('float32', random(rows * D, 2), [B, H, N, D]);
      const lse1 = new Tensor('float32', random(rows, 3, -8, 8), [B, H, N]);
      const lse2 = new Tensor('float32', random(rows, 4, -8, 8), [B, H, N]);
      const out = Tensor.zeros('float32', [B, H, N, D]);
      return {
        run: () => mergeAttentionStatesSync(o1, lse1, o2, lse2, { out }),
        work: { bytes: 4 * (3 * rows * D + 3 * rows) },
        error: () => {
          const ref = mergeRef(o1.data as Float32Array, lse1.data as Float32Array, o2.data as Float32Array, lse2.data as Float32Array, D);
          return relError([[out.data as Float32Array, ref.out]]);
        },
      };
    },
  };
}

export const mergeFamily: Family = {
  name: 'merge',
  cases: ({ quick }) => (quick ? [mergeCase(1, 32, 4096, 128)] : [mergeCase(1, 32, 4096, 128), mergeCase(1, 32, 16384, 128)]),
};
