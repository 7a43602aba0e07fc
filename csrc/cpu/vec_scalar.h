// One-lane "vector" for the portable path of the templated CPU kernels: the same
// kernel source as the SIMD paths, with libm's exp2.
#pragma once
#include <cmath>
#include <cstdint>

#include "../core/half.h"

namespace subq::cpu {

struct VecScalar {
  using T = float;
  static constexpr int W = 1;
  static constexpr int kStates = 16;  // states held in registers per pass of the scan

  // Block transposes: TB x TB, d[i*ds + j] = s[j*ss + i].
  static constexpr int TB = 1;
  static void transpose_block(const float* s, int64_t, float* d, int64_t) { *d = *s; }
  static void transpose(T*) {}  // in registers: one lane is its own transpose
  static T lane_sums(const T* r) { return *r; }

  static T zero() { return 0.f; }
  static T set1(float v) { return v; }
  static T load(const float* p) { return *p; }
  static void store(float* p, T v) { *p = v; }
  static void stream(float* p, T v) { *p = v; }  // p aligned to the vector
  static void stream_fence() {}
  static T load_n(const float* p, int n) { return n > 0 ? *p : 0.f; }
  static T load_bf16(const uint16_t* p) { return bf16_to_f32(*p); }
  static T load_bf16_n(const uint16_t* p, int n) { return n > 0 ? bf16_to_f32(*p) : 0.f; }
  static T load_f16(const uint16_t* p) { return f16_to_f32(*p); }
  static T load_f16_n(const uint16_t* p, int n) { return n > 0 ? f16_to_f32(*p) : 0.f; }
  static void store_n(float* p, T v, int n) { if (n > 0) *p = v; }
  static T add(T a, T b) { return a + b; }
  static T sub(T a, T b) { return a - b; }
  static T mul(T a, T b) { return a * b; }
  static T div(T a, T b) { return a / b; }
  static T rcp(T x) { return 1.f / x; }
  static T fmadd(T a, T b, T c) { return std::fma(a, b, c); }
  static T fnmadd(T a, T b, T c) { return std::fma(-a, b, c); }  // c - a*b
  static T max(T a, T b) { return a > b ? a : b; }  // a NaN b gives b, as maxps
  static T min(T a, T b) { return a < b ? a : b; }  // a NaN b gives b, as minps
  static T abs(T a) { return std::fabs(a); }
  static T copysign(T mag, T sgn) { return std::copysign(mag, sgn); }
  static T select_gt(T a, T b, T x, T y) { return a > b ? x : y; }
  static T round_bf16(T a) { return bf16_to_f32(f32_to_bf16(a)); }  // nearest even, NaN quieted
  static float reduce_add(T a) { return a; }
  static float reduce_max(T a) { return a; }
  // 2^(a*b)
  static T exp2_mul(T a, T b) { return std::exp2(a * b); }
  static T exp2_mul_small(T a, T b) { return exp2_mul(a, b); }
};

}  // namespace subq::cpu
