// Split-KV combine: merges the partial results of the splits of each query row
// by their LSE (LseMerge, softmax.cuh); a row no split saw gives o = 0, lse = -inf.
#pragma once
#include "attn_kernels.cuh"
#include "softmax.cuh"

namespace subq::cuda {

constexpr int kCombineThreads = 64;

template <Elem E>
__global__ void __launch_bounds__(kCombineThreads) attn_combine(const FwdParams p) {
  const int64_t row = blockIdx.x, rows = int64_t(p.B) * p.Hq * p.Nq;
  const RowMap rm{int(row / p.Nq % p.Hq), int(row % p.Nq)};
  const int b = int(row / (int64_t(p.Nq) * p.Hq));
  LseMerge mg;
  for (int s = 0; s < p.splits; ++s) mg.m = fmaxf(mg.m, p.part_lse[s * rows + row]);
  if (!mg.empty())
    for (int s = 0; s < p.splits; ++s) mg.sum += mg.weight(p.part_lse[s * rows + row]);
  const float inv = mg.sum > 0.f ? 1.f / mg.sum : 0.f;
  for (int c = threadIdx.x; c < p.Dv; c += kCombineThreads) {
    float acc = 0.f;
    if (!mg.empty())
      for (int s = 0; s < p.splits; ++s) {
        const float w = mg.weight(p.part_lse[s * rows + row]);
        if (w > 0.f) acc += w * p.part_o[(s * rows + row) * p.Dv + c];
      }
    store_elem<E>(p.o, b * p.o_sb + rm.head * p.o_sh + rm.pos * p.o_sn + c, acc * inv);
  }
  if (threadIdx.x == 0 && p.lse) {
    // fmaxf drops NaN: a split whose LSE is NaN (a NaN score) makes the row's NaN.
    float lse = mg.lse();
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
