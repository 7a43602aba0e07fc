// Argument checks shared by every op. Each failure throws a subq::Error that
// names the argument, what was expected and what was given.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

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
// Every dim i of t equals shape[i]; the message names expected_from[i] (e.g. "u.shape").
void shape_equals(const TensorView& t, const char* name, const char* what, const int64_t* shape,
                  const std::string& expected_from);
void dim_range(const TensorView& t, const char* name, int dim, const char* what, int64_t lo, int64_t hi);

// Throws a RangeError naming `name` unless lo <= v <= hi.
void int_range(int64_t v, const char* name, int64_t lo, int64_t hi);
void finite(double v, const char* name);
// Throws a RangeError naming `name` unless 0 <= v <= 1 (NaN is not).
void unit_interval(double v, const std::string& name);
// v as JavaScript prints it (shortest round trip; NaN, Infinity), for messages.
std::string number_str(double v);
// fp32 normal numbers, by magnitude: a value beyond them changes the math in fp32
// (overflow to inf, or a flush to 0 that would turn a feature off).
constexpr double kMinNormal = 1.1754943508222875e-38;  // 2^-126
constexpr double kMaxNormal = 1.7014118346046923e38;   // 2^127: times log2(e) still finite
// Throws a RangeError naming `name` unless v is 0 or kMinNormal <= |v| <= kMaxNormal.
void fp32_normal_or_zero(double v, const char* name);

// Throws a RangeError when two elements of t (an output, or a state written in
// place) share memory, e.g. a stride-0 broadcast: their writes would race.
void no_self_overlap(const TensorView& t, const char* name);

// Throws a RangeError when the memory w (an output, or a state written in place)
// may address overlaps the memory `in` may address: the kernels read inputs after
// writing outputs, so any overlap gives wrong answers. allow_same lets w be the
// very same view as in (an op that is documented to work in place).
void no_overlap(const TensorView& w, const char* wn, const TensorView& in, const char* in_name,
                bool allow_same = false);

// A buffer an op writes (an output, an LSE, a final state): `ndim` dims of `dtype` on
// the device of `like`, shaped `shape` (what / expected_from as in shape_equals), and
// no two elements at one address.
void written(const TensorView& t, const char* name, DType dtype, int ndim, const int64_t* shape, const char* what,
             const std::string& expected_from, const TensorView& like, const char* like_name);

// no_overlap(w, wn, *in, in_name) for every input; null views are skipped.
using Named = std::pair<const TensorView*, const char*>;
void no_overlap(const TensorView& w, const char* wn, std::initializer_list<Named> inputs);

}  // namespace subq::check
