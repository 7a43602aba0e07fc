// CUDA status codes -> subq::Error carrying CUDA's own message, and the record of
// devices whose context a kernel fault lost.
#pragma once
#include <cuda_runtime.h>

namespace subq::cuda {

// Throws unless e is cudaSuccess: a RangeError for an out-of-memory;
// ERR_SUBQ_DEVICE_LOST for a fault that lost the context (an illegal address, a
// trap, ...: CUDA reports it to every later call), which marks `device` (the
// current device when -1) lost; an Error otherwise. `what` names the operation.
void check(cudaError_t e, const char* what, int device = -1);

// Throws ERR_SUBQ_DEVICE_LOST when an earlier fault lost `device`'s context, so
// that later calls fail fast with the same code instead of CUDA's varied errors.
void check_not_lost(int device);

// After a launch on `device`: the launch's own error (cleared), or the fault an
// earlier kernel left (sticky: it is still reported after a launch's checks).
void check_launch(int device, const char* what);

// Runs `enqueue` (launches on `device`'s stream) and then check_launch: a fault an
// earlier kernel left is reported as ERR_SUBQ_DEVICE_LOST even when `enqueue` throws.
template <class F>
void launch_checked(int device, const char* what, F&& enqueue) {
  try {
    enqueue();
  } catch (...) {
    check_launch(device, what);
    throw;
  }
  check_launch(device, what);
}

}  // namespace subq::cuda
