#include "check.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace subq::check {

static std::string strides_str(const TensorView& t) {
  std::string s = "[";
  for (int i = 0; i < t.ndim; ++i) s += (i ? ", " : "") + std::to_string(t.stride[i]);
  return s + "]";
}

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
  if (!ok) dtype_error(std::string(name) + ".dtype must be " + names + ", got " + dtype_name(t.dtype));
  if (t.ndim != ndim)
    shape_error(std::string(name) + " must have " + std::to_string(ndim) + " dimensions, got " +
                std::to_string(t.ndim) + " (shape " + shape_str(t) + ")");
  int64_t last = 0;  // largest element offset
  for (int i = 0; i < ndim; ++i) {
    if (t.shape[i] < 1)
      shape_error(std::string(name) + ".shape[" + std::to_string(i) + "] must be >= 1, got " +
                  std::to_string(t.shape[i]) + " (empty tensors are not accepted)");
    if (t.stride[i] < 0)
      shape_error(std::string(name) + ".strides[" + std::to_string(i) + "] must be >= 0, got " +
                  std::to_string(t.stride[i]));
    int64_t span;
    if (__builtin_mul_overflow(t.shape[i] - 1, t.stride[i], &span) ||
        __builtin_add_overflow(last, span, &last))
      shape_error(std::string(name) + " shape " + shape_str(t) + " with its strides overflows 64-bit offsets");
  }
  if (t.stride[ndim - 1] != 1 && t.shape[ndim - 1] > 1)
    shape_error(std::string(name) + ".strides[" + std::to_string(ndim - 1) +
                "] must be 1 (last dimension contiguous), got " + std::to_string(t.stride[ndim - 1]));
  if (last >= t.capacity)
    shape_error(std::string(name) + " shape " + shape_str(t) + " with its strides reaches element " +
                std::to_string(last) + " but the buffer holds " + std::to_string(t.capacity) + " elements");
  int64_t bytes;
  if (__builtin_mul_overflow(last + 1, int64_t(dtype_size(t.dtype)), &bytes))
    shape_error(std::string(name) + " is too large to address");
}

void same_dtype(const TensorView& a, const char* an, const TensorView& b, const char* bn) {
  if (a.dtype != b.dtype)
    dtype_error(std::string(bn) + ".dtype must equal " + an + ".dtype = " + dtype_name(a.dtype) + ", got " +
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
    shape_error(std::string(name) + ".shape[" + std::to_string(dim) + "] (" + what + ") must equal " +
                expected_from + " = " + std::to_string(expected) + ", got " + std::to_string(t.shape[dim]));
}

void shape_equals(const TensorView& t, const char* name, const char* what, const int64_t* shape,
                  const std::string& expected_from) {
  for (int i = 0; i < t.ndim; ++i) dim_equals(t, name, i, what, shape[i], expected_from + "[" + std::to_string(i) + "]");
}

void dim_range(const TensorView& t, const char* name, int dim, const char* what, int64_t lo, int64_t hi) {
  if (t.shape[dim] < lo || t.shape[dim] > hi)
    shape_error(std::string(name) + ".shape[" + std::to_string(dim) + "] (" + what + ") must be in [" +
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

std::string number_str(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

void unit_interval(double v, const std::string& name) {
  if (!(v >= 0 && v <= 1)) range_error(name + " must be in [0, 1], got " + number_str(v));
}

void fp32_normal_or_zero(double v, const char* name) {
  finite(v, name);
  const double a = std::fabs(v);
  if (a != 0 && (a < kMinNormal || a > kMaxNormal)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    range_error(std::string(name) + " must be 0 or of magnitude in [2^-126, 2^127] (fp32 normal numbers), got " + buf);
  }
}

// The elements t addresses lie in [data, data + extent) bytes.
static int64_t extent_bytes(const TensorView& t) {
  int64_t last = 0;
  for (int i = 0; i < t.ndim; ++i) last += (t.shape[i] - 1) * t.stride[i];
  return (last + 1) * int64_t(dtype_size(t.dtype));
}

static bool same_view(const TensorView& a, const TensorView& b) {
  if (a.data != b.data || a.dtype != b.dtype || a.ndim != b.ndim) return false;
  for (int i = 0; i < a.ndim; ++i)
    if (a.shape[i] != b.shape[i] || (a.shape[i] > 1 && a.stride[i] != b.stride[i])) return false;
  return true;
}

void no_self_overlap(const TensorView& t, const char* name) {
  int order[kMaxDims], n = 0;
  for (int i = 0; i < t.ndim; ++i)
    if (t.shape[i] > 1) order[n++] = i;
  for (int k = 1; k < n; ++k)  // insertion sort by stride (at most kMaxDims entries)
    for (int j = k; j > 0 && t.stride[order[j]] < t.stride[order[j - 1]]; --j) std::swap(order[j], order[j - 1]);
  int64_t reach = 1;  // elements spanned by the dims so far
  for (int k = 0; k < n; ++k) {
    const int i = order[k];
    if (t.stride[i] < reach)
      range_error(std::string(name) + " is written, so its elements must not share memory, but strides " +
                  strides_str(t) + " with shape " + shape_str(t) + " repeat elements");
    reach = t.stride[i] * (t.shape[i] - 1) + reach;
  }
}

void no_overlap(const TensorView& w, const char* wn, const TensorView& in, const char* in_name, bool allow_same) {
  if (!w.data || !in.data || w.device != in.device) return;
  if (allow_same && same_view(w, in)) return;
  const auto a = reinterpret_cast<uintptr_t>(w.data), b = reinterpret_cast<uintptr_t>(in.data);
  if (a < b + uintptr_t(extent_bytes(in)) && b < a + uintptr_t(extent_bytes(w)))
    range_error(std::string(wn) + " overlaps the memory of " + in_name + (allow_same ? " (only the very same view is allowed)" : "") +
                "; an op's outputs must not share memory with its inputs");
}

void written(const TensorView& t, const char* name, DType dtype, int ndim, const int64_t* shape, const char* what,
             const std::string& expected_from, const TensorView& like, const char* like_name) {
  tensor(t, name, ndim, {dtype});
  same_device(like, like_name, t, name);
  shape_equals(t, name, what, shape, expected_from);
  no_self_overlap(t, name);
}

void no_overlap(const TensorView& w, const char* wn, std::initializer_list<Named> inputs) {
  for (auto [in, in_name] : inputs) no_overlap(w, wn, *in, in_name);
}

}  // namespace subq::check
