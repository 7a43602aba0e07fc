// One stream per device, created on first use and kept for the process. A single
// stream per device makes allocation, copies, kernels and frees one ordered
// sequence, which is what keeps stream-ordered frees safe.
#include <cuda_runtime.h>

#include <mutex>
#include <vector>

#include "error.cuh"
#include "runtime.h"

namespace subq::cuda {

cudaStream_t stream(int device) {
  static std::mutex mu;
  static std::vector<cudaStream_t> streams;
  use_device(device);
  std::lock_guard<std::mutex> lock(mu);
  if (streams.size() <= size_t(device)) streams.resize(device + 1, nullptr);
  if (!streams[device]) check(cudaStreamCreateWithFlags(&streams[device], cudaStreamNonBlocking), "cudaStreamCreate");
  return streams[device];
}

void wait(int device) {
  cudaStream_t s = stream(device);
  // An event with blocking sync lets the waiting thread sleep instead of spin.
  cudaEvent_t done;
  check(cudaEventCreateWithFlags(&done, cudaEventBlockingSync | cudaEventDisableTiming), "cudaEventCreate");
  cudaError_t e = cudaEventRecord(done, s);
  if (e == cudaSuccess) e = cudaEventSynchronize(done);
  cudaEventDestroy(done);
  check(e, "the device's work");
}

}  // namespace subq::cuda
