// The attention kernels as the host sees them: launch and occupancy of the kernel for a
// head dim (head_dims.h), defined with the kernels in attn_fwd_{f16,bf16,f32}.cu and
// attn_combine.cu.
#pragma once
#include "attn_params.cuh"

namespace subq::cuda {

struct FwdKernel {
  void (*launch)(const FwdParams& p, dim3 grid, cudaStream_t stream);
  int (*blocks_per_sm)();  // blocks resident on one multiprocessor (2 under the emulator)
};

// The tensor-core kernel (fp16 / bf16) for a listed head dim hd: the decode kernel
// (DecodeHeadDims::at_least(hd)) or, with sparse = 64 or 128, the block-sparse one for
// that mask block; sparse = 0 is dense.
template <bool BF16>
FwdKernel tc_kernel(int hd, bool decode, int sparse);
// The fp32 kernel for a listed head dim, dense or block-sparse.
FwdKernel f32_kernel(int hd, bool sparse);
// The split-KV combine.
template <Elem E>
void launch_combine(const FwdParams& p, cudaStream_t stream);

// Launches `kernel` with `smem` bytes of dynamic shared memory, allowing it more than the
// 48 KB a launch gets by default.
template <class K, class... A>
void launch_with_smem(K kernel, dim3 grid, int threads, int smem, cudaStream_t stream, const A&... args) {
#if !SIMT_EMULATED
  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
#endif
  SIMT_LAUNCH(kernel, grid, dim3(threads), smem, stream, args...);
}

// Occupancy of a kernel with `smem` bytes of dynamic shared memory per block.
template <class K>
int resident_blocks(K kernel, int threads, int smem) {
#if SIMT_EMULATED
  (void)kernel, (void)threads, (void)smem;
  return 2;
#else
  int n = 0;
  if (cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem) != cudaSuccess ||
      cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kernel, threads, smem) != cudaSuccess) {
    cudaGetLastError();
    n = 1;
  }
  return n > 0 ? n : 1;
#endif
}

}  // namespace subq::cuda
