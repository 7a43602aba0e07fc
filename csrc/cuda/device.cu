// Device enumeration and selection. cudart is linked statically, so this loads on
// machines without a GPU or driver and reports zero devices there.
#include <cuda_runtime.h>

#include <string>

#include "../core/error.h"
#include "backend.h"
#include "error.cuh"
#include "runtime.h"

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
    DeviceInfo d{i, prop.name, prop.major, prop.minor, prop.totalGlobalMem, 0, prop.multiProcessorCount};
    // Free memory needs the device's context (created here if no op made it yet).
    if (cudaSetDevice(i) != cudaSuccess || cudaMemGetInfo(&d.free_memory, &d.total_memory) != cudaSuccess)
      cudaGetLastError();
    r.devices.push_back(d);
  }
  return r;
}

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return n;
}

void use_device(int device) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess || n == 0) {
    cudaGetLastError();
    runtime_error("device cuda:" + std::to_string(device) + " is not available: this machine has no usable CUDA device (" +
                (e != cudaSuccess ? cudaGetErrorString(e) : "none found") + ")");
  }
  if (device < 0 || device >= n)
    range_error("device cuda:" + std::to_string(device) + " does not exist: there " +
                (n == 1 ? std::string("is 1 (cuda:0)") : "are " + std::to_string(n) + " (cuda:0 to cuda:" + std::to_string(n - 1) + ")"));
  check_not_lost(device);
  check(cudaSetDevice(device), "cudaSetDevice", device);
}

}  // namespace subq::cuda
