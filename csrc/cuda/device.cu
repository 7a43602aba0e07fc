// Device enumeration for backendInfo(). cudart is linked statically, so this
// loads on machines without a GPU or driver and reports zero devices there.
#include <cuda_runtime.h>

#include "../core/error.h"
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

void attention(const AttentionParams&) {
  runtime_error("CUDA attention kernels are not part of this build yet");
}

}  // namespace subq::cuda
