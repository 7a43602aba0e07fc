// Built only where the CUDA headers exist. cuda_fp16.h pulls in crt/host_defines.h,
// which defines __shared__ for host compilers so that shared arrays silently
// become per-thread locals; simt.h must undo that (its static_assert is the
// compile-time proof, this test the run-time one).
#include <cuda_fp16.h>

#include "../../csrc/simt/simt.h"
#include "harness.h"

namespace subq::test {

namespace {

__global__ void shared_after_cuda_headers(int* out) {
  __shared__ int x;
  if (threadIdx.x == 0) x = 7;
  __syncthreads();
  out[threadIdx.x] = x;
}

}  // namespace

void register_cuda_headers_tests() {
  add("simt: __shared__ stays shared when CUDA's headers come first", [] {
    int out[64] = {};
    simt::launch(shared_after_cuda_headers, dim3(1), dim3(64), 0, out);
    for (int x : out) check(x == 7, "a thread saw its own copy of a __shared__ variable");
  });
}

}  // namespace subq::test
