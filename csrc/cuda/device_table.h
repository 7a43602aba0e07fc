// A host table copied to the device for the duration of one call, in the order of the
// device's stream (the kernels that read it run there too): the host copy is kept until
// the upload is done, the device copy freed in stream order after the kernel.
#pragma once
#include <memory>
#include <utility>
#include <vector>

#include "runtime.h"

namespace subq::cuda {

template <class T>
class DeviceTable {
 public:
  DeviceTable(int device, std::vector<T> v) : device_(device) {
    auto host = std::make_shared<const std::vector<T>>(std::move(v));
    const size_t bytes = host->size() * sizeof(T);
    p_ = alloc(device, bytes);
    try {
      upload(device, p_, host->data(), bytes, host);
    } catch (...) {
      release(device, p_);
      throw;
    }
  }
  ~DeviceTable() { release(device_, p_); }
  DeviceTable(const DeviceTable&) = delete;
  DeviceTable& operator=(const DeviceTable&) = delete;
  const T* get() const { return static_cast<const T*>(p_); }

 private:
  int device_;
  void* p_ = nullptr;
};

}  // namespace subq::cuda
