// Argument checks shared by every op. Each failure throws a subq::Error that
// names the argument, what was expected and what was given.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>

#include "../core/error.h"
#include "../core/tensor.h"

namespace subq::check {

std::string shape_str(const TensorView& t);

// ndim, dtype in `allowed`, every dim >= 1, last dim contiguous, strides >= 0,
// and every addressable element inside the buffer (with overflow checks).
void tensor(const TensorView& t, const char* name, int ndim, std::initializer_list<DType> allowed);

void same_dtype(const TensorView& a, const char* an, const TensorView& b, const char* bn);
void same_device(const TensorView& a, const char* an, const TensorView& b, const char* bn);

// "<name>.shape[<dim>] (<what>) must equal <expected>, got <actual>"
void dim_equals(const TensorView& t, const char* name, int dim, const char* what, int64_t expected,
                const std::string& expected_from);
void dim_range(const TensorView& t, const char* name, int dim, const char* what, int64_t lo, int64_t hi);

// Throws a RangeError naming `name` unless lo <= v <= hi.
void int_range(int64_t v, const char* name, int64_t lo, int64_t hi);
void finite(double v, const char* name);

}  // namespace subq::check
