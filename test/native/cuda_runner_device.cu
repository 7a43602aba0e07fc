// Device twin of cuda_runner_emulated.cpp: the same test cases on a real GPU.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "cuda_runner.h"

namespace subq::test {

namespace {

void ok(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

struct DeviceCopy {
  void* ptr = nullptr;
  size_t bytes = 0;
  DeviceCopy(const TensorView& t) : bytes(size_t(t.capacity) * dtype_size(t.dtype)) {
    ok(cudaMalloc(&ptr, bytes ? bytes : 1), "cudaMalloc");
    if (bytes) ok(cudaMemcpy(ptr, t.data, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to device");
  }
  ~DeviceCopy() { cudaFree(ptr); }
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
  void* lse = nullptr;
  if (p.lse.data) {
    ok(cudaMalloc(&lse, size_t(p.lse.capacity) * 4), "cudaMalloc");
    ok(cudaMemcpy(lse, p.lse.data, size_t(p.lse.capacity) * 4, cudaMemcpyHostToDevice), "cudaMemcpy to device");
    d.lse.data = lse;
  }
  void* ws = nullptr;
  if (plan.workspace_bytes) ok(cudaMalloc(&ws, size_t(plan.workspace_bytes)), "cudaMalloc");
  cuda::attention_launch(d, plan, ws, nullptr);
  const cudaError_t e = cudaDeviceSynchronize();
  cudaFree(ws);
  if (lse) {
    if (e == cudaSuccess) ok(cudaMemcpy(p.lse.data, lse, size_t(p.lse.capacity) * 4, cudaMemcpyDeviceToHost), "cudaMemcpy");
    cudaFree(lse);
  }
  ok(e, "attention kernels");
  o.back(p.out);
}

}  // namespace subq::test
