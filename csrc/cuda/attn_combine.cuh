// Split-KV combine: merges the partial results of the splits of each query row
// by their LSE (docs/semantics.md, mergeAttentionStates; natural log):
//   m = max_s lse_s, w_s = exp(lse_s - m), o = sum_s w_s o_s / sum_s w_s,
//   lse = m + log(sum_s w_s); a row no split saw gives o = 0, lse = -inf.
#pragma once
#include "attn_common.cuh"

namespace subq::cuda {

constexpr int kCombineThreads = 64;

template <Elem E>
__global__ void __launch_bounds__(kCombineThreads) attn_combine(const FwdParams p) {
  const int64_t row = blockIdx.x, rows = int64_t(p.B) * p.Hq * p.Nq;
  const RowMap rm{int(row / p.Nq % p.Hq), int(row % p.Nq)};
  const int b = int(row / (int64_t(p.Nq) * p.Hq));
  float m = -INFINITY;
  for (int s = 0; s < p.splits; ++s) m = fmaxf(m, p.part_lse[s * rows + row]);
  float sum = 0.f;
  if (m != -INFINITY)
    for (int s = 0; s < p.splits; ++s) sum += expf(p.part_lse[s * rows + row] - m);
  const float inv = sum > 0.f ? 1.f / sum : 0.f;
  for (int c = threadIdx.x; c < p.Dv; c += kCombineThreads) {
    float acc = 0.f;
    if (m != -INFINITY)
      for (int s = 0; s < p.splits; ++s) {
        const float w = expf(p.part_lse[s * rows + row] - m);
        if (w > 0.f) acc += w * p.part_o[(s * rows + row) * p.Dv + c];
      }
    store_elem<E>(p.o, b * p.o_sb + rm.head * p.o_sh + rm.pos * p.o_sn + c, acc * inv);
  }
  if (threadIdx.x == 0 && p.lse) {
    // fmaxf drops NaN: a split whose LSE is NaN (a NaN score) makes the row's NaN.
    float lse = m == -INFINITY ? -INFINITY : m + logf(sum);
    for (int s = 0; s < p.splits; ++s) {
      const float l = p.part_lse[s * rows + row];
      lse = l != l ? l : lse;  // a NaN (l != l also under the emulator, which has no isnan)
    }
    p.lse[b * p.lse_sb + rm.head * p.lse_sh + rm.pos * p.lse_sn] = lse;
  }
}

template <Elem E>
void launch_combine(const FwdParams& p, cudaStream_t stream) {
  auto kernel = attn_combine<E>;
  SIMT_LAUNCH(kernel, dim3(unsigned(int64_t(p.B) * p.Hq * p.Nq)), dim3(kCombineThreads), 0, stream, p);
}

}  // namespace subq::cuda
