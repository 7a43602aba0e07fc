// For the device runners (*_runner_device.cu): a device copy of a host view's buffer,
// swapped into the view for the launch; back() copies it home.
#pragma once
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "../../csrc/core/tensor.h"

namespace subq::test {

inline void cuda_ok(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

struct DeviceCopy {
  TensorView& view;
  void* host;
  void* ptr = nullptr;
  size_t bytes;
  explicit DeviceCopy(TensorView& t) : view(t), host(t.data), bytes(size_t(t.capacity) * dtype_size(t.dtype)) {
    cuda_ok(cudaMalloc(&ptr, bytes), "cudaMalloc");
    cuda_ok(cudaMemcpy(ptr, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to device");
    view.data = ptr;
  }
  ~DeviceCopy() { cudaFree(ptr); }
  DeviceCopy(const DeviceCopy&) = delete;
  DeviceCopy& operator=(const DeviceCopy&) = delete;
  void back() const { cuda_ok(cudaMemcpy(host, ptr, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to host"); }
};

}  // namespace subq::test
