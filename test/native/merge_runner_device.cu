// Device twin of merge_runner_emulated.cpp: the same cases on a real GPU.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "../../csrc/cuda/merge_launch.h"
#include "merge_runner.h"

namespace subq::test {

namespace {

void ok(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

// A device copy of a view's buffer, swapped into the view; back() copies it home.
struct DeviceCopy {
  TensorView& view;
  void* host;
  void* ptr = nullptr;
  size_t bytes;
  explicit DeviceCopy(TensorView& t) : view(t), host(t.data), bytes(size_t(t.capacity) * dtype_size(t.dtype)) {
    ok(cudaMalloc(&ptr, bytes), "cudaMalloc");
    ok(cudaMemcpy(ptr, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to device");
    view.data = ptr;
  }
  ~DeviceCopy() { cudaFree(ptr); }
  void back() const { ok(cudaMemcpy(host, ptr, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to host"); }
};

}  // namespace

void run_cuda_merge(const MergeParams& p) {
  MergeParams d = p;
  DeviceCopy o1(d.o1), o2(d.o2), l1(d.lse1), l2(d.lse2), out(d.out), lse(d.lse);
  cuda::merge_states_launch(d, nullptr);
  ok(cudaDeviceSynchronize(), "merge kernel");
  out.back();
  lse.back();
}

}  // namespace subq::test
