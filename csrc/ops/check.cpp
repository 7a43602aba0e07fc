#include "check.h"

#include <cmath>

namespace subq::check {

std::string shape_str(const TensorView& t) {
  std::string s = "[";
  for (int i = 0; i < t.ndim; ++i) s += (i ? ", " : "") + std::to_string(t.shape[i]);
  return s + "]";
}

void tensor(const TensorView& t, const char* name, int ndim, std::initializer_list<DType> allowed) {
  bool ok = false;
  std::string names;
  for (DType d : allowed) {
    ok |= t.dtype == d;
    names += std::string(names.empty() ? "" : " | ") + dtype_name(d);
  }
  if (!ok) type_error(std::string(name) + ".dtype must be " + names + ", got " + dtype_name(t.dtype));
  if (t.ndim != ndim)
    range_error(std::string(name) + " must have " + std::to_string(ndim) + " dimensions, got " +
                std::to_string(t.ndim) + " (shape " + shape_str(t) + ")");
  int64_t last = 0;  // largest element offset
  for (int i = 0; i < ndim; ++i) {
    if (t.shape[i] < 1)
      range_error(std::string(name) + ".shape[" + std::to_string(i) + "] must be >= 1, got " +
                  std::to_string(t.shape[i]) + " (empty tensors are not accepted)");
    if (t.stride[i] < 0)
      range_error(std::string(name) + ".strides[" + std::to_string(i) + "] must be >= 0, got " +
                  std::to_string(t.stride[i]));
    int64_t span;
    if (__builtin_mul_overflow(t.shape[i] - 1, t.stride[i], &span) ||
        __builtin_add_overflow(last, span, &last))
      range_error(std::string(name) + " shape " + shape_str(t) + " with its strides overflows 64-bit offsets");
  }
  if (t.stride[ndim - 1] != 1 && t.shape[ndim - 1] > 1)
    range_error(std::string(name) + ".strides[" + std::to_string(ndim - 1) +
                "] must be 1 (last dimension contiguous), got " + std::to_string(t.stride[ndim - 1]));
  if (last >= t.capacity)
    range_error(std::string(name) + " shape " + shape_str(t) + " with its strides reaches element " +
                std::to_string(last) + " but the buffer holds " + std::to_string(t.capacity) + " elements");
  int64_t bytes;
  if (__builtin_mul_overflow(last + 1, int64_t(dtype_size(t.dtype)), &bytes))
    range_error(std::string(name) + " is too large to address");
}

void same_dtype(const TensorView& a, const char* an, const TensorView& b, const char* bn) {
  if (a.dtype != b.dtype)
    type_error(std::string(bn) + ".dtype must equal " + an + ".dtype = " + dtype_name(a.dtype) + ", got " +
               dtype_name(b.dtype));
}

void same_device(const TensorView& a, const char* an, const TensorView& b, const char* bn) {
  if (a.device != b.device)
    type_error(std::string(bn) + " is on " + b.device.str() + " but " + an + " is on " + a.device.str() +
               "; all tensors of one call must be on the same device");
}

void dim_equals(const TensorView& t, const char* name, int dim, const char* what, int64_t expected,
                const std::string& expected_from) {
  if (t.shape[dim] != expected)
    range_error(std::string(name) + ".shape[" + std::to_string(dim) + "] (" + what + ") must equal " +
                expected_from + " = " + std::to_string(expected) + ", got " + std::to_string(t.shape[dim]));
}

void dim_range(const TensorView& t, const char* name, int dim, const char* what, int64_t lo, int64_t hi) {
  if (t.shape[dim] < lo || t.shape[dim] > hi)
    range_error(std::string(name) + ".shape[" + std::to_string(dim) + "] (" + what + ") must be in [" +
                std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(t.shape[dim]));
}

void int_range(int64_t v, const char* name, int64_t lo, int64_t hi) {
  if (v < lo || v > hi)
    range_error(std::string(name) + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                "], got " + std::to_string(v));
}

void finite(double v, const char* name) {
  if (!std::isfinite(v)) range_error(std::string(name) + " must be a finite number, got " + std::to_string(v));
}

}  // namespace subq::check
