// Attention phases on AVX-512: on zmm (8 x 3 micro-tiles, 48-query tiles) and on ymm with
// AVX-512VL (32 registers, scalef; 6 x 4, 32-query tiles). attention.cpp picks one per CPU.
#include <immintrin.h>

// GCC 12's AVX-512 intrinsic headers trip -Wuninitialized on their own _mm*_undefined_*.
#pragma GCC diagnostic ignored "-Wuninitialized"

#include "attention_simd.h"

namespace subq::cpu {
namespace {

// 2^x = p(f) * 2^floor(x) with f = x - floor(x) from one vreduceps, and scalef, which
// floors its exponent operand itself. Both take any finite x (a huge negative x gives 0),
// which is why the masked sentinel needs no clamp.
struct Ymm512 {
  using T = __m256;
  static constexpr int W = 8, Q = 4, KR = 6, DR = 6;
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, T a) { _mm256_storeu_ps(p, a); }
  static T set1(float x) { return _mm256_set1_ps(x); }
  static T zero() { return _mm256_setzero_ps(); }
  static T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  static T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static T div(T a, T b) { return _mm256_div_ps(a, b); }
  static T max(T a, T b) { return _mm256_max_ps(a, b); }
  static T min(T a, T b) { return _mm256_min_ps(a, b); }
  static T abs(T a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static T copysign(T mag, T sgn) {
    return _mm256_or_ps(mag, _mm256_and_ps(_mm256_set1_ps(-0.0f), sgn));
  }
  static T exp2(T x) {
    const T f = _mm256_reduce_ps(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    return _mm256_scalef_ps(exp2_poly<Ymm512>(f), x);
  }
};

struct Zmm512 {
  using T = __m512;
  static constexpr int W = 16, Q = 3, KR = 8, DR = 8;
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, T a) { _mm512_storeu_ps(p, a); }
  static T set1(float x) { return _mm512_set1_ps(x); }
  static T zero() { return _mm512_setzero_ps(); }
  static T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static T div(T a, T b) { return _mm512_div_ps(a, b); }
  static T max(T a, T b) { return _mm512_max_ps(a, b); }
  static T min(T a, T b) { return _mm512_min_ps(a, b); }
  static T abs(T a) { return _mm512_abs_ps(a); }
  static T copysign(T mag, T sgn) {
    return _mm512_or_ps(mag, _mm512_and_ps(_mm512_set1_ps(-0.0f), sgn));
  }
  static T exp2(T x) {
    const T f = _mm512_reduce_ps(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    return _mm512_scalef_ps(exp2_poly<Zmm512>(f), x);
  }
};

constexpr AttentionKernels kYmm = kernels_for<Ymm512>();
constexpr AttentionKernels kZmm = kernels_for<Zmm512>();

}  // namespace

const AttentionKernels& attention_kernels_avx512_ymm() { return kYmm; }
const AttentionKernels& attention_kernels_avx512_zmm() { return kZmm; }

}  // namespace subq::cpu
