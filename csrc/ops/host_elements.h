// The elements of a small int32 / uint8 view on the host, for ops that must read device
// data (validation, a result's counts).
#pragma once
#include <cstdint>
#include <vector>

#include "../core/tensor.h"
#include "../cuda/runtime.h"

namespace subq {

// The elements of t in row-major order of its shape: read in place on the CPU, copied
// back from a CUDA device (one download of its span, waited for).
template <class T>
std::vector<T> host_elements(const TensorView& t) {
  int64_t span = 1;
  for (int i = 0; i < t.ndim; ++i) span += (t.shape[i] - 1) * t.stride[i];
  std::vector<T> raw;
  const T* base = t.ptr<T>();
  if (t.device.kind == DeviceKind::CUDA) {
    raw.resize(size_t(span));
    cuda::read_back(t.device.index, raw.data(), t.data, size_t(span) * sizeof(T));
    base = raw.data();
  }
  std::vector<T> out(size_t(t.numel()));
  for (int64_t e = 0; e < t.numel(); ++e) {
    int64_t off = 0, rest = e;
    for (int i = t.ndim - 1; i >= 0; --i) {
      off += rest % t.shape[i] * t.stride[i];
      rest /= t.shape[i];
    }
    out[size_t(e)] = base[off];
  }
  return out;
}

}  // namespace subq
