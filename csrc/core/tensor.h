// A non-owning strided view: what every op receives, whatever the backend.
// Strides are in elements; `capacity` is how many elements the underlying buffer
// holds from `data` on, so bounds can be proven before a kernel runs.
#pragma once
#include <cstdint>
#include <string>

#include "dtype.h"

namespace subq {

enum class DeviceKind : uint8_t { CPU, CUDA };

struct Device {
  DeviceKind kind = DeviceKind::CPU;
  int index = 0;
  bool operator==(const Device& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const {
    return kind == DeviceKind::CPU ? "cpu" : "cuda:" + std::to_string(index);
  }
};

constexpr int kMaxDims = 8;

struct TensorView {
  void* data = nullptr;
  DType dtype = DType::F32;
  Device device;
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t stride[kMaxDims] = {};
  int64_t capacity = 0;  // elements addressable from data

  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < ndim; ++i) n *= shape[i];
    return n;
  }
  template <class T> T* ptr() const { return static_cast<T*>(data); }
};

// A contiguous (row-major) view of `ndim` dims over memory holding exactly its elements.
inline TensorView contiguous_view(void* data, DType dtype, Device device, const int64_t* shape, int ndim) {
  TensorView t;
  t.data = data, t.dtype = dtype, t.device = device, t.ndim = ndim;
  int64_t s = 1;
  for (int i = ndim - 1; i >= 0; --i) t.shape[i] = shape[i], t.stride[i] = s, s *= shape[i];
  t.capacity = s;
  return t;
}

}  // namespace subq
