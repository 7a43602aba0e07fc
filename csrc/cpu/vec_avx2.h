// 8-lane AVX2+FMA vector for the templated CPU kernels. Include only from files
// compiled with AVX2 flags (*_avx2.cpp).
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "../core/half_vec.h"

#include "transpose8.h"

namespace subq::cpu {

struct VecAvx2 {
  using T = __m256;
  static constexpr int W = 8;
  static constexpr int kStates = 8;  // 16 registers: 8 states, the rest for exp

  static constexpr int TB = 8;
  static void transpose_block(const float* s, int64_t ss, float* d, int64_t ds) { transpose8x8(s, ss, d, ds); }
  static void transpose(T r[8]) { transpose8(r); }
  static T lane_sums(const T r[8]) { return lane_sums8(r); }  // lane i: the sum of r[i]

  static T zero() { return _mm256_setzero_ps(); }
  static T set1(float v) { return _mm256_set1_ps(v); }
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static void stream(float* p, T v) { _mm256_stream_ps(p, v); }  // p aligned to the vector
  static void stream_fence() { _mm_sfence(); }
  static __m256i tail(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static T load_n(const float* p, int n) { return _mm256_maskload_ps(p, tail(n)); }
  // fp16 / bf16 bits widened to fp32 on load (exact; load_*_n: the first n lanes).
  static T load_bf16(const uint16_t* p) { return bf16_bits(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static T load_bf16_n(const uint16_t* p, int n) { return bf16_bits(first_n(p, n)); }
  static T load_f16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static T load_f16_n(const uint16_t* p, int n) { return _mm256_cvtph_ps(first_n(p, n)); }
  static T bf16_bits(__m128i h) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)); }
  static __m128i first_n(const uint16_t* p, int n) {  // no 16-bit masked load in AVX2
    alignas(16) uint16_t b[8] = {};
    for (int i = 0; i < n; ++i) b[i] = p[i];
    return _mm_load_si128(reinterpret_cast<const __m128i*>(b));
  }
  static void store_n(float* p, T v, int n) { _mm256_maskstore_ps(p, tail(n), v); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  static T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static T div(T a, T b) { return _mm256_div_ps(a, b); }
  // vrcpps has 12 bits: one Newton step would leave ~2 ulp, so divide (ymm vdivps is cheap).
  static T rcp(T x) { return _mm256_div_ps(_mm256_set1_ps(1.f), x); }
  static T fmadd(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T fnmadd(T a, T b, T c) { return _mm256_fnmadd_ps(a, b, c); }  // c - a*b
  static T max(T a, T b) { return _mm256_max_ps(a, b); }
  static T min(T a, T b) { return _mm256_min_ps(a, b); }
  static T abs(T a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.f), a); }
  static T copysign(T mag, T sgn) { return _mm256_or_ps(mag, _mm256_and_ps(_mm256_set1_ps(-0.f), sgn)); }
  static T select_gt(T a, T b, T x, T y) { return _mm256_blendv_ps(y, x, _mm256_cmp_ps(a, b, _CMP_GT_OQ)); }
  // a rounded to bf16 (core/half_vec.h's rule), as fp32.
  static T round_bf16(T a) {
    return _mm256_castsi256_ps(_mm256_and_si256(subq::simd::bf16_round_words(a), _mm256_set1_epi32(int(0xffff0000u))));
  }
  static float reduce_add(T a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  // max over the lanes; a NaN lane gives NaN.
  static float reduce_max(T a) {
    if (_mm256_movemask_ps(_mm256_cmp_ps(a, a, _CMP_UNORD_Q))) return __builtin_nanf("");
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
  }

  // 2^(a*b): round to an integer k, a degree-7 Taylor polynomial on [-1/2, 1/2]
  // (truncation < 6e-9), and 2^k applied in two halves so that k = -150 gives 0
  // and k = 128 gives inf without integer wrap-around. NaN stays NaN.
  static T exp2_mul(T a, T b) {
    T x = _mm256_mul_ps(a, b);
    x = _mm256_max_ps(_mm256_set1_ps(-150.f), x);  // operand order keeps NaN
    x = _mm256_min_ps(_mm256_set1_ps(128.f), x);
    return exp2_clamped(x);
  }
  // |a*b| < 128 (or NaN) only, where the clamps above change nothing.
  static T exp2_mul_small(T a, T b) { return exp2_clamped(_mm256_mul_ps(a, b)); }
  static T exp2_clamped(T x) {
    const T k = _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const T r = _mm256_sub_ps(x, k);
    T p = _mm256_set1_ps(1.5252733e-5f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.5403530e-4f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3333558e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(9.6181291e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.5504109e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(2.4022651e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(6.9314718e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f));
    const __m256i ki = _mm256_cvtps_epi32(k);
    const __m256i k1 = _mm256_srai_epi32(ki, 1), k2 = _mm256_sub_epi32(ki, k1);
    const __m256i bias = _mm256_set1_epi32(127);
    const T s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, bias), 23));
    const T s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
  }
};

}  // namespace subq::cpu
