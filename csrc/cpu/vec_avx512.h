// AVX-512 vectors for the templated CPU kernels: 16 lanes in zmm, and 8 lanes in ymm
// with the AVX-512VL instructions (32 registers, masks, vscalefps, two-table vpermt2ps).
// Which form is faster depends on the CPU (FMA ports, frequency licences):
// vector_width.h decides. The state-space and attention kernels share these types.
// Include only from files compiled with AVX-512 flags (*_avx512.cpp).
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "../core/half_vec.h"

// GCC 12's AVX-512 intrinsic headers trip -Wuninitialized on their own _mm*_undefined_*.
#pragma GCC diagnostic ignored "-Wuninitialized"

#include "transpose8.h"

namespace subq::cpu {

// 2^(j/16), j = 0..15: the table of the exp2 below.
alignas(64) inline constexpr float kExp2Table[16] = {
    1.0f,        1.04427378f, 1.09050773f, 1.13878863f, 1.18920712f, 1.24185781f, 1.29683955f, 1.35425555f,
    1.41421356f, 1.47682615f, 1.54221083f, 1.61049033f, 1.68179283f, 1.75625216f, 1.83400809f, 1.91520656f};

// 2^(a*b) = 2^n * 2^(j/16) * 2^r: k = a*b rounded to 1/16 by adding 1.5*2^19 (the low
// four mantissa bits of the sum are j, which vperm reads directly), |r| <= 1/32, and a
// cubic for 2^r - 1 (truncation 1e-8, so about 1 ulp overall); vscalef applies 2^floor(k).
// A is pre-scaled by log2(e) by the callers instead of scaling here.
// 1/x: the 14-bit estimate and one Newton step (about 1 ulp; vdivps is several times
// slower). Finite nonzero x only: inf gives NaN.
#define SUBQ_RCP_BODY(P)                 \
  const auto r = P##_rcp14_ps(x);        \
  return P##_fmadd_ps(r, P##_fnmadd_ps(x, r, P##_set1_ps(1.f)), r);

#define SUBQ_EXP2_CORE(P, lookup)                                                  \
  const auto shift = P##_set1_ps(0x1.8p19f);                                       \
  const auto s = P##_fmadd_ps(a, b, shift);                                        \
  const auto k = P##_sub_ps(s, shift);                                             \
  const auto r = P##_fmsub_ps(a, b, k);                                            \
  const auto t = lookup;                                                           \
  auto q = P##_fmadd_ps(P##_set1_ps(0.0555041087f), r, P##_set1_ps(0.240226507f)); \
  q = P##_fmadd_ps(q, r, P##_set1_ps(0.693147181f));                               \
  q = P##_mul_ps(q, r);
// Any a*b: lanes with |k| >= 160 keep the table value, so vscalef alone decides: 0
// for large negative, inf for large positive, NaN for NaN; huge |a*b| cannot reach
// the polynomial.
#define SUBQ_EXP2_BODY(P, lookup, mask_t)                                    \
  SUBQ_EXP2_CORE(P, lookup)                                                  \
  const mask_t ok = P##_cmp_ps_mask(abs(k), P##_set1_ps(160.f), _CMP_LT_OQ); \
  return P##_scalef_ps(P##_mask_fmadd_ps(t, ok, q, t), k);
// |a*b| < 128 (or NaN) only, where the range test above always passes: the same bits
// without it.
#define SUBQ_EXP2_SMALL_BODY(P, lookup) \
  SUBQ_EXP2_CORE(P, lookup)             \
  return P##_scalef_ps(P##_fmadd_ps(t, q, t), k);

struct VecZmm {
  using T = __m512;
  static constexpr int W = 16;
  static constexpr int kStates = 16;

  static constexpr int TB = 8;
  static void transpose_block(const float* s, int64_t ss, float* d, int64_t ds) { transpose8x8(s, ss, d, ds); }
  // In registers: r[i] = row i in, r[j] = column j out (16 x 16).
  static void transpose(T r[16]) {
    T t[16];
    for (int k = 0; k < 16; k += 2) {
      t[k] = _mm512_unpacklo_ps(r[k], r[k + 1]);
      t[k + 1] = _mm512_unpackhi_ps(r[k], r[k + 1]);
    }
    // r[4g + j], 128-bit lane q: column 4q + j of rows 4g .. 4g+3.
    for (int k = 0; k < 16; k += 4) {
      r[k] = _mm512_shuffle_ps(t[k], t[k + 2], 0x44);
      r[k + 1] = _mm512_shuffle_ps(t[k], t[k + 2], 0xEE);
      r[k + 2] = _mm512_shuffle_ps(t[k + 1], t[k + 3], 0x44);
      r[k + 3] = _mm512_shuffle_ps(t[k + 1], t[k + 3], 0xEE);
    }
    // A 4 x 4 transpose of 128-bit lanes across r[j], r[4+j], r[8+j], r[12+j].
    for (int j = 0; j < 4; ++j) {
      const T a = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x44), b = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xEE);
      const T c = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x44), d = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xEE);
      t[j] = _mm512_shuffle_f32x4(a, c, 0x88);
      t[4 + j] = _mm512_shuffle_f32x4(a, c, 0xDD);
      t[8 + j] = _mm512_shuffle_f32x4(b, d, 0x88);
      t[12 + j] = _mm512_shuffle_f32x4(b, d, 0xDD);
    }
    for (int k = 0; k < 16; ++k) r[k] = t[k];
  }
  // Lane i = the sum of r[i]'s lanes: a tree that halves the vectors at each level (an
  // in-lane pair, then 128-bit-lane pairs, each summed), 30 shuffles and 15 adds where
  // transpose() and an add tree take 64 and 15.
  static T lane_sums(const T r[16]) {
    T a[8], b[4], c[2];
    for (int k = 0; k < 8; ++k)  // 128-bit lane L of a[k]: partial sums of r[2k], r[2k+1] (twice)
      a[k] = _mm512_add_ps(_mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]), _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]));
    for (int k = 0; k < 4; ++k)  // 128-bit lane L of b[k]: partial sums of r[4k .. 4k+3]
      b[k] = _mm512_add_ps(_mm512_shuffle_ps(a[2 * k], a[2 * k + 1], 0x44), _mm512_shuffle_ps(a[2 * k], a[2 * k + 1], 0xEE));
    for (int k = 0; k < 2; ++k)  // c[k]: lanes 0-7 r[8k .. 8k+3] in two halves, 8-15 r[8k+4 ..]
      c[k] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * k], b[2 * k + 1], 0x44), _mm512_shuffle_f32x4(b[2 * k], b[2 * k + 1], 0xEE));
    return _mm512_add_ps(_mm512_shuffle_f32x4(c[0], c[1], 0x88), _mm512_shuffle_f32x4(c[0], c[1], 0xDD));
  }

  static T zero() { return _mm512_setzero_ps(); }
  static T set1(float v) { return _mm512_set1_ps(v); }
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
  static void stream(float* p, T v) { _mm512_stream_ps(p, v); }  // p aligned to the vector
  static void stream_fence() { _mm_sfence(); }
  static __mmask16 tail(int n) { return __mmask16((1u << n) - 1); }
  static T load_n(const float* p, int n) { return _mm512_maskz_loadu_ps(tail(n), p); }
  // fp16 / bf16 bits widened to fp32 on load (exact; load_*_n: the first n lanes).
  static T load_bf16(const uint16_t* p) { return bf16_bits(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static T load_bf16_n(const uint16_t* p, int n) { return bf16_bits(_mm256_maskz_loadu_epi16(tail(n), p)); }
  static T load_f16(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static T load_f16_n(const uint16_t* p, int n) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(tail(n), p)); }
  static T bf16_bits(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }
  static void store_n(float* p, T v, int n) { _mm512_mask_storeu_ps(p, tail(n), v); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static T div(T a, T b) { return _mm512_div_ps(a, b); }
  static T rcp(T x) { SUBQ_RCP_BODY(_mm512) }
  static T fmadd(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T fnmadd(T a, T b, T c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a*b
  static T max(T a, T b) { return _mm512_max_ps(a, b); }
  static T min(T a, T b) { return _mm512_min_ps(a, b); }
  static T abs(T a) { return _mm512_abs_ps(a); }
  static T copysign(T mag, T sgn) { return _mm512_or_ps(mag, _mm512_and_ps(_mm512_set1_ps(-0.0f), sgn)); }
  static T select_gt(T a, T b, T x, T y) { return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_GT_OQ), y, x); }
  // a rounded to bf16 (core/half_vec.h's rule), as fp32.
  static T round_bf16(T a) {
    return _mm512_castsi512_ps(_mm512_and_si512(subq::simd::bf16_round_words(a), _mm512_set1_epi32(int(0xffff0000u))));
  }
  static float reduce_add(T a) { return _mm512_reduce_add_ps(a); }
  // max over the lanes; a NaN lane gives NaN.
  static float reduce_max(T a) {
    return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q) ? __builtin_nanf("") : _mm512_reduce_max_ps(a);
  }
  static T exp2_mul(T a, T b) {
    SUBQ_EXP2_BODY(_mm512, _mm512_permutexvar_ps(_mm512_castps_si512(s), _mm512_load_ps(kExp2Table)), __mmask16)
  }
  static T exp2_mul_small(T a, T b) {
    SUBQ_EXP2_SMALL_BODY(_mm512, _mm512_permutexvar_ps(_mm512_castps_si512(s), _mm512_load_ps(kExp2Table)))
  }
};

struct VecYmm {
  using T = __m256;
  static constexpr int W = 8;
  static constexpr int kStates = 16;

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
  static __mmask8 tail(int n) { return __mmask8((1u << n) - 1); }
  static T load_n(const float* p, int n) { return _mm256_maskz_loadu_ps(tail(n), p); }
  static T load_bf16(const uint16_t* p) { return bf16_bits(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static T load_bf16_n(const uint16_t* p, int n) { return bf16_bits(_mm_maskz_loadu_epi16(tail(n), p)); }
  static T load_f16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static T load_f16_n(const uint16_t* p, int n) { return _mm256_cvtph_ps(_mm_maskz_loadu_epi16(tail(n), p)); }
  static T bf16_bits(__m128i h) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)); }
  static void store_n(float* p, T v, int n) { _mm256_mask_storeu_ps(p, tail(n), v); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  static T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static T div(T a, T b) { return _mm256_div_ps(a, b); }
  static T rcp(T x) { SUBQ_RCP_BODY(_mm256) }
  static T fmadd(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T fnmadd(T a, T b, T c) { return _mm256_fnmadd_ps(a, b, c); }  // c - a*b
  static T max(T a, T b) { return _mm256_max_ps(a, b); }
  static T min(T a, T b) { return _mm256_min_ps(a, b); }
  static T abs(T a) { return _mm256_castsi256_ps(_mm256_and_si256(_mm256_castps_si256(a), _mm256_set1_epi32(0x7fffffff))); }
  static T copysign(T mag, T sgn) { return _mm256_or_ps(mag, _mm256_and_ps(_mm256_set1_ps(-0.0f), sgn)); }
  static T select_gt(T a, T b, T x, T y) { return _mm256_mask_blend_ps(_mm256_cmp_ps_mask(a, b, _CMP_GT_OQ), y, x); }
  static float reduce_add(T a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float reduce_max(T a) {
    if (_mm256_cmp_ps_mask(a, a, _CMP_UNORD_Q)) return __builtin_nanf("");
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
  }
  static T exp2_mul(T a, T b) {
    SUBQ_EXP2_BODY(_mm256,
                   _mm256_permutex2var_ps(_mm256_load_ps(kExp2Table), _mm256_castps_si256(s),
                                          _mm256_load_ps(kExp2Table + 8)),
                   __mmask8)
  }
  static T exp2_mul_small(T a, T b) {
    SUBQ_EXP2_SMALL_BODY(_mm256, _mm256_permutex2var_ps(_mm256_load_ps(kExp2Table), _mm256_castps_si256(s),
                                                        _mm256_load_ps(kExp2Table + 8)))
  }
};

#undef SUBQ_EXP2_SMALL_BODY
#undef SUBQ_EXP2_BODY
#undef SUBQ_EXP2_CORE
#undef SUBQ_RCP_BODY

}  // namespace subq::cpu
