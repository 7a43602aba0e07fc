// Device memory from each device's default memory pool, allocated and freed in
// the order of the device's stream. The pool keeps freed memory for reuse (no
// release threshold); when an allocation fails, the cached memory is returned to
// the driver once and the allocation retried before reporting out-of-memory.
#include <cuda_runtime.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "../core/error.h"
#include "error.cuh"
#include "runtime.h"

namespace subq::cuda {

namespace {

void configure_pool(int device) {
  static std::mutex mu;
  static std::vector<bool> done;
  std::lock_guard<std::mutex> lock(mu);
  if (done.size() <= size_t(device)) done.resize(device + 1, false);
  if (done[device]) return;
  cudaMemPool_t pool;
  check(cudaDeviceGetDefaultMemPool(&pool, device), "cudaDeviceGetDefaultMemPool");
  uint64_t keep = UINT64_MAX;
  check(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep), "cudaMemPoolSetAttribute");
  done[device] = true;
}

std::string mib(size_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB"; }

}  // namespace

void* alloc(int device, size_t bytes) {
  cudaStream_t s = stream(device);
  configure_pool(device);
  void* p = nullptr;
  cudaError_t e = cudaMallocAsync(&p, bytes ? bytes : 1, s);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    cudaMemPool_t pool;
    if (cudaStreamSynchronize(s) == cudaSuccess && cudaDeviceGetDefaultMemPool(&pool, device) == cudaSuccess &&
        cudaMemPoolTrimTo(pool, 0) == cudaSuccess)
      e = cudaMallocAsync(&p, bytes ? bytes : 1, s);
  }
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t free = 0, total = 0;
    cudaMemGetInfo(&free, &total);
    cudaGetLastError();
    range_error("CUDA out of memory on cuda:" + std::to_string(device) + ": could not allocate " + mib(bytes) +
                " (" + mib(free) + " free of " + mib(total) + "); dispose() tensors that are no longer needed");
  }
  check(e, "cudaMallocAsync");
  return p;
}

void release(int device, void* ptr) noexcept {
  if (!ptr) return;
  try {
    cudaFreeAsync(ptr, stream(device));
  } catch (...) {
    // The runtime is shutting down or the device is lost: nothing left to free.
  }
  cudaGetLastError();
}

}  // namespace subq::cuda
