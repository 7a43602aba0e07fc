// Device enumeration for backendInfo() and the entry to the CUDA kernels. cudart is linked statically, so this
// loads on machines without a GPU or driver and reports zero devices there.
#include <cuda_runtime.h>

#include <string>

#include "../core/error.h"
#include "attn_launch.h"
#include "backend.h"

namespace subq::cuda {

Info info() {
  Info r;
  r.compiled = true;
  cudaRuntimeGetVersion(&r.runtime_version);
  if (cudaDriverGetVersion(&r.driver_version) != cudaSuccess) r.driver_version = 0;
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    r.error = cudaGetErrorString(e);
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    return r;
  }
  for (int i = 0; i < n; ++i) {
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    r.devices.push_back({i, prop.name, prop.major, prop.minor, prop.totalGlobalMem, prop.multiProcessorCount});
  }
  return r;
}

// Runs on the legacy default stream and waits; the workspace of a split-KV call
// comes from the stream-ordered allocator.
void attention(const AttentionParams& p) {
  const AttentionPlan plan = attention_plan(p);
  void* workspace = nullptr;
  if (plan.workspace_bytes > 0) {
    const cudaError_t e = cudaMallocAsync(&workspace, size_t(plan.workspace_bytes), nullptr);
    if (e != cudaSuccess) {
      cudaGetLastError();
      runtime_error(std::string("CUDA attention workspace: ") + cudaGetErrorString(e));
    }
  }
  try {
    attention_launch(p, plan, workspace, nullptr);
  } catch (...) {
    if (workspace) cudaFreeAsync(workspace, nullptr);
    throw;
  }
  if (workspace) cudaFreeAsync(workspace, nullptr);
  const cudaError_t e = cudaStreamSynchronize(nullptr);
  if (e != cudaSuccess) runtime_error(std::string("CUDA attention: ") + cudaGetErrorString(e));
}

}  // namespace subq::cuda
