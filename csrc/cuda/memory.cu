// Device memory from a memory pool of this package's own on each device,
// allocated and freed in the order of the device's stream. The device's default
// pool is shared with every other library in the process (PyTorch, cuDNN, ...),
// so its settings are left alone; our pool keeps freed memory for reuse (release
// threshold: never), and when an allocation fails the memory it caches is
// returned to the driver once and the allocation retried before reporting
// out-of-memory.
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

// Created on first use and kept for the process (leaked on purpose: frees from
// finalizers may come during static destruction).
cudaMemPool_t pool(int device) {
  static std::mutex mu;
  static auto* pools = new std::vector<cudaMemPool_t>();
  std::lock_guard<std::mutex> lock(mu);
  if (pools->size() <= size_t(device)) pools->resize(size_t(device) + 1, nullptr);
  cudaMemPool_t& p = (*pools)[size_t(device)];
  if (p) return p;
  cudaMemPoolProps props{};
  props.allocType = cudaMemAllocationTypePinned;
  props.handleTypes = cudaMemHandleTypeNone;
  props.location.type = cudaMemLocationTypeDevice;
  props.location.id = device;
  cudaMemPool_t created;
  check(cudaMemPoolCreate(&created, &props), "cudaMemPoolCreate", device);
  uint64_t keep = UINT64_MAX;
  const cudaError_t e = cudaMemPoolSetAttribute(created, cudaMemPoolAttrReleaseThreshold, &keep);
  if (e != cudaSuccess) cudaMemPoolDestroy(created);
  check(e, "cudaMemPoolSetAttribute", device);
  p = created;
  return p;
}

std::string mib(size_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB"; }

}  // namespace

void* alloc(int device, size_t bytes) {
  cudaStream_t s = stream(device);
  cudaMemPool_t mp = pool(device);
  void* p = nullptr;
  cudaError_t e = cudaMallocFromPoolAsync(&p, bytes ? bytes : 1, mp, s);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    // Memory freed in stream order returns to the pool once the work before the
    // free is done: wait for it, give what the pool caches back, and retry.
    if (cudaStreamSynchronize(s) == cudaSuccess && cudaMemPoolTrimTo(mp, 0) == cudaSuccess)
      e = cudaMallocFromPoolAsync(&p, bytes ? bytes : 1, mp, s);
  }
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t free = 0, total = 0;
    cudaMemGetInfo(&free, &total);
    cudaGetLastError();
    oom_error("CUDA out of memory on cuda:" + std::to_string(device) + ": could not allocate " + mib(bytes) + " (" +
              mib(free) + " free of " + mib(total) + "); dispose() tensors that are no longer needed");
  }
  check(e, "cudaMallocFromPoolAsync", device);
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
