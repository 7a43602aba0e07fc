// Merge of two attention states (core/merge_params.h) on the GPU: one warp per row, the
// lanes striding over the row's D values; fp32 math (LseMerge, softmax.cuh). Plain CUDA
// that also runs under the SIMT emulator (numeric.cuh, csrc/simt).
#pragma once
#include <cstdint>

#include "numeric.cuh"
#include "softmax.cuh"

namespace subq::cuda {

struct MergeArgs {
  const void* o1;
  const void* o2;
  void* out;
  const float* lse1;
  const float* lse2;
  float* lse;
  int64_t o1_s[3], o2_s[3], out_s[3];  // element strides of b, h, n ([B, H, N, D] views)
  int64_t lse1_s[3], lse2_s[3], lse_s[3];
  int64_t B, H, N, D;
};

constexpr int kMergeRowsPerBlock = 4;  // warps per block, one row each

SUBQ_DEVICE int64_t merge_offset(const int64_t s[3], int64_t b, int64_t h, int64_t n) {
  return b * s[0] + h * s[1] + n * s[2];
}

template <Elem E>
__global__ void __launch_bounds__(32 * kMergeRowsPerBlock) merge_states_kernel(const MergeArgs a) {
  const int64_t row = int64_t(blockIdx.x) * kMergeRowsPerBlock + threadIdx.y;
  if (row >= a.B * a.H * a.N) return;
  const int64_t b = row / (a.H * a.N), h = row / a.N % a.H, n = row % a.N;
  const float l1 = a.lse1[merge_offset(a.lse1_s, b, h, n)], l2 = a.lse2[merge_offset(a.lse2_s, b, h, n)];
  // NaN in either LSE makes m or a weight NaN, so it propagates.
  LseMerge mg{l1 >= l2 ? l1 : l2};
  const bool empty = mg.empty();
  const float w1 = empty ? 0.f : mg.weight(l1), w2 = empty ? 0.f : mg.weight(l2);
  mg.sum = w1 + w2;
  const float c1 = empty ? 0.f : w1 / mg.sum, c2 = empty ? 0.f : w2 / mg.sum;
  const int64_t i1 = merge_offset(a.o1_s, b, h, n), i2 = merge_offset(a.o2_s, b, h, n);
  const int64_t io = merge_offset(a.out_s, b, h, n);
  for (int64_t d = threadIdx.x; d < a.D; d += 32) {
    // An empty state (weight 0) is skipped so its output values never matter.
    const float v = (w1 != 0.f ? c1 * load_elem<E>(a.o1, i1 + d) : 0.f) +
                    (w2 != 0.f ? c2 * load_elem<E>(a.o2, i2 + d) : 0.f);
    store_elem<E>(a.out, io + d, v);
  }
  if (threadIdx.x == 0) a.lse[merge_offset(a.lse_s, b, h, n)] = mg.lse();
}

template <Elem E>
void launch_merge(const MergeArgs& a, unsigned blocks, cudaStream_t stream) {
  auto kernel = merge_states_kernel<E>;
  SIMT_LAUNCH(kernel, dim3(blocks), dim3(32, kMergeRowsPerBlock), 0, stream, a);
}

}  // namespace subq::cuda
