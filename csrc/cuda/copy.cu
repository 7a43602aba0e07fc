// Host <-> device copies on the device's stream, enqueued. The host side is
// ordinary (pageable) memory, which the copy reads or writes after the call
// returns, so its owner is kept until the copy is done (keep_until_done).
#include <cuda_runtime.h>

#include <utility>

#include "error.cuh"
#include "runtime.h"

namespace subq::cuda {

void upload(int device, void* dst, const void* src, size_t bytes, std::shared_ptr<const void> owner) {
  if (!bytes) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream(device)), "cudaMemcpyAsync (to device)", device);
  keep_until_done(device, std::move(owner));
}

void download(int device, void* dst, const void* src, size_t bytes, std::shared_ptr<const void> owner) {
  if (!bytes) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream(device)), "cudaMemcpyAsync (to host)", device);
  keep_until_done(device, std::move(owner));
}

void copy(int device, void* dst, const void* src, size_t bytes) {
  if (!bytes) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream(device)), "cudaMemcpyAsync (on device)", device);
}

void read_back(int device, void* dst, const void* src, size_t bytes) {
  if (!bytes) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream(device)), "cudaMemcpyAsync (to host)", device);
  wait(device);
}

}  // namespace subq::cuda
