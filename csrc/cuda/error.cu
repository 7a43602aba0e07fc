#include <atomic>
#include <mutex>
#include <string>

#include "../core/error.h"
#include "error.cuh"

namespace subq::cuda {

namespace {

constexpr int kMaxDevices = 1024;  // DeviceBuffer's bound on device indices

// Faults after which the context is unusable: CUDA returns them from every later
// call in the process (CUDA runtime API, "error handling").
bool loses_context(cudaError_t e) {
  switch (e) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchTimeout:
    case cudaErrorAssert:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorLaunchFailure:
    case cudaErrorECCUncorrectable:
    case cudaErrorContextIsDestroyed:
    case cudaErrorExternalDevice:
      return true;
    default:
      return false;
  }
}

struct Lost {
  std::atomic<bool> flag[kMaxDevices] = {};
  std::mutex mu;
  std::string why[kMaxDevices];
};
// Leaked on purpose: finalizers may still ask during static destruction.
Lost& lost() {
  static Lost* l = new Lost;
  return *l;
}

[[noreturn]] void throw_lost(int device, const std::string& why) {
  device_lost_error("cuda:" + std::to_string(device) + " is lost: " + why +
                    ". A kernel fault leaves the device's CUDA context unusable for the rest of the process; its "
                    "tensors are gone and every later call on it fails with ERR_SUBQ_DEVICE_LOST. Restart the process.");
}

}  // namespace

void check_not_lost(int device) {
  if (device < 0 || device >= kMaxDevices || !lost().flag[device].load(std::memory_order_acquire)) return;
  std::string why;
  {
    std::lock_guard<std::mutex> lock(lost().mu);
    why = lost().why[device];
  }
  throw_lost(device, why);
}

void check(cudaError_t e, const char* what, int device) {
  if (e == cudaSuccess) return;
  // Clears a non-sticky error so that it does not resurface in a later call; a
  // sticky one stays (cudaPeekAtLastError still reports it).
  cudaGetLastError();
  const std::string msg = std::string("CUDA error in ") + what + ": " + cudaGetErrorString(e) + " (" +
                          cudaGetErrorName(e) + ")";
  if (loses_context(e) || loses_context(cudaPeekAtLastError())) {
    if (device < 0 && cudaGetDevice(&device) != cudaSuccess) device = 0;
    if (device >= 0 && device < kMaxDevices) {
      std::lock_guard<std::mutex> lock(lost().mu);
      if (!lost().flag[device].load()) lost().why[device] = msg;
      lost().flag[device].store(true, std::memory_order_release);
    }
    throw_lost(device, msg);
  }
  if (e == cudaErrorMemoryAllocation) oom_error(msg);
  runtime_error(msg);
}

void check_launch(int device, const char* what) {
  check(cudaGetLastError(), what, device);
  check(cudaPeekAtLastError(), what, device);
}

}  // namespace subq::cuda
