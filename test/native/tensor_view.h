// A TensorView over host memory with explicit shape and element strides, for native tests
// that hand the kernels views the ops layer would otherwise build.
#pragma once
#include <cstdint>
#include <initializer_list>

#include "../../csrc/core/tensor.h"

namespace subq::test {

inline TensorView view(void* data, DType dt, std::initializer_list<int64_t> shape, std::initializer_list<int64_t> stride,
                       int64_t capacity) {
  TensorView t;
  t.data = data, t.dtype = dt, t.ndim = int(shape.size()), t.capacity = capacity;
  int i = 0;
  for (int64_t s : shape) t.shape[i++] = s;
  i = 0;
  for (int64_t s : stride) t.stride[i++] = s;
  return t;
}

}  // namespace subq::test
