// Attention phases on AVX2 + FMA (16 ymm registers): 4 x 3 micro-tiles, 24-query tiles.
#include <immintrin.h>

#include "attention_simd.h"

namespace subq::cpu {
namespace {

struct Avx2 {
  using T = __m256;
  static constexpr int W = 8, Q = 3, KR = 4, DR = 4;
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
  // 2^x for x <= 0 (and up to 2^26) without scalef: 2^floor(x) is built in the exponent
  // bits. Below -127 the result is 0; max(-127, x) keeps a NaN x.
  static T exp2(T x) {
    x = _mm256_max_ps(_mm256_set1_ps(-127.0f), x);
    const T n = _mm256_round_ps(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    const T p = exp2_poly<Avx2>(_mm256_sub_ps(x, n));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  }
};

constexpr AttentionKernels kAvx2 = kernels_for<Avx2>();

}  // namespace

const AttentionKernels& attention_kernels_avx2() { return kAvx2; }

}  // namespace subq::cpu
