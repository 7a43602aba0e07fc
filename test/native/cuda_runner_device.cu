// Device twin of cuda_runner_emulated.cpp: the same test cases on a real GPU.
#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "cuda_runner.h"

namespace subq::test {

namespace {

void ok(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

// A device copy of a view's buffer at the same address alignment (mod 256), so
// unaligned views take the same kernel paths as under the emulator.
struct DeviceCopy {
  void* base = nullptr;
  void* ptr = nullptr;
  size_t bytes = 0;
  DeviceCopy(const TensorView& t) : bytes(size_t(t.capacity) * dtype_size(t.dtype)) {
    const size_t shift = reinterpret_cast<uintptr_t>(t.data) % 256;
    ok(cudaMalloc(&base, bytes + shift + 1), "cudaMalloc");
    ptr = static_cast<char*>(base) + shift;
    if (bytes) ok(cudaMemcpy(ptr, t.data, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to device");
  }
  ~DeviceCopy() { cudaFree(base); }
  void back(const TensorView& t) const {
    if (bytes) ok(cudaMemcpy(t.data, ptr, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to host");
  }
};

}  // namespace

void run_cuda_attention(const AttentionParams& p, const cuda::AttentionLaunchOptions& opt) {
  const cuda::AttentionPlan plan = cuda::attention_plan(p, opt);
  DeviceCopy q(p.q), k(p.k), v(p.v), o(p.out);
  AttentionParams d = p;
  d.q.data = q.ptr, d.k.data = k.ptr, d.v.data = v.ptr, d.out.data = o.ptr;
  std::unique_ptr<DeviceCopy> lse;
  if (p.lse.data) {
    lse = std::make_unique<DeviceCopy>(p.lse);
    d.lse.data = lse->ptr;
  }
  // A block mask's index lists, counts and head modes live on the device too.
  std::unique_ptr<DeviceCopy> mask[3];
  TensorView* mask_views[3] = {&d.mask.indices, &d.mask.counts, &d.mask.head_modes};
  for (int i = 0; i < 3; ++i)
    if (mask_views[i]->data) {
      mask[i] = std::make_unique<DeviceCopy>(*mask_views[i]);
      mask_views[i]->data = mask[i]->ptr;
    }
  void* ws = nullptr;
  if (plan.workspace_bytes) ok(cudaMalloc(&ws, size_t(plan.workspace_bytes)), "cudaMalloc");
  try {
    cuda::attention_launch(d, plan, ws, nullptr);
  } catch (...) {
    cudaFree(ws);
    throw;
  }
  const cudaError_t e = cudaDeviceSynchronize();
  cudaFree(ws);
  ok(e, "attention kernels");
  o.back(p.out);
  if (lse) lse->back(p.lse);
}

}  // namespace subq::test
