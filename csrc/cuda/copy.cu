// Host <-> device copies on the device's stream. The host side is ordinary
// (pageable) memory owned by JavaScript, so each copy is waited for before the
// call returns; callers run them off the event loop.
#include <cuda_runtime.h>

#include "error.cuh"
#include "runtime.h"

namespace subq::cuda {

void upload(int device, void* dst, const void* src, size_t bytes) {
  if (!bytes) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream(device)), "cudaMemcpyAsync (to device)");
  wait(device);
}

void download(int device, void* dst, const void* src, size_t bytes) {
  if (!bytes) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream(device)), "cudaMemcpyAsync (to host)");
  wait(device);
}

}  // namespace subq::cuda
