// core/half.h's fp32 -> bf16 rounding (nearest even, NaN quieted) on AVX2 / AVX-512
// vectors: the rounded 32-bit words, whose high halves are the bf16 values. One rule for
// the bulk conversions (half_avx2.cpp, half_avx512.cpp) and the CPU kernels' vector types
// (cpu/vec_avx2.h, cpu/vec_avx512.h). Include only from files compiled with those flags;
// each form is defined where its instructions are enabled.
#pragma once
#include <immintrin.h>

namespace subq::simd {
namespace {

#if defined(__AVX512F__)
inline __m512i bf16_round_words(__m512 f) {
  const __m512i u = _mm512_castps_si512(f);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  const __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
  return _mm512_mask_or_epi32(r, _mm512_cmp_ps_mask(f, f, _CMP_UNORD_Q), u, _mm512_set1_epi32(0x400000));
}
// 16 fp32 values as 16 bf16 values.
inline __m256i f32x16_to_bf16(__m512 f) { return _mm512_cvtepi32_epi16(_mm512_srli_epi32(bf16_round_words(f), 16)); }
#endif

#if defined(__AVX2__)
inline __m256i bf16_round_words(__m256 f) {
  const __m256i u = _mm256_castps_si256(f);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i r = _mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff)));
  const __m256i quiet = _mm256_or_si256(u, _mm256_set1_epi32(0x400000));
  return _mm256_blendv_epi8(r, quiet, _mm256_castps_si256(_mm256_cmp_ps(f, f, _CMP_UNORD_Q)));
}
#endif

}  // namespace
}  // namespace subq::simd
