// Launch of the merge kernel (merge.cuh) for each element type.
#include <string>

#include "../core/error.h"
#include "merge.cuh"
#include "merge_launch.h"

namespace subq::cuda {

void merge_states_launch(const MergeParams& p, cudaStream_t stream) {
  MergeArgs a{};
  a.o1 = p.o1.data, a.o2 = p.o2.data, a.out = p.out.data;
  a.lse1 = p.lse1.ptr<float>(), a.lse2 = p.lse2.ptr<float>(), a.lse = p.lse.ptr<float>();
  for (int i = 0; i < 3; ++i) {
    a.o1_s[i] = p.o1.stride[i], a.o2_s[i] = p.o2.stride[i], a.out_s[i] = p.out.stride[i];
    a.lse1_s[i] = p.lse1.stride[i], a.lse2_s[i] = p.lse2.stride[i], a.lse_s[i] = p.lse.stride[i];
  }
  a.B = p.B, a.H = p.H, a.N = p.N, a.D = p.D;
  const int64_t blocks = (p.B * p.H * p.N + kMergeRowsPerBlock - 1) / kMergeRowsPerBlock;
  if (blocks > 0x7fffffff) range_error("mergeAttentionStates: too many rows for one CUDA launch");
  with_elem(p.o1.dtype, [&](auto e) { launch_merge<decltype(e)::value>(a, unsigned(blocks), stream); });
#if !SIMT_EMULATED
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) runtime_error(std::string("CUDA merge kernel: ") + cudaGetErrorString(e));
#endif
}

}  // namespace subq::cuda
