// Compiled with AVX2/F16C flags; called only when the CPU has them.
#include <immintrin.h>

#include "half_simd.h"
#include "half_vec.h"

namespace subq::simd {

static inline __m256 bf16x8_to_f32(__m128i h) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

static inline __m128i f32x8_to_bf16(__m256 f) {
  const __m256i r = _mm256_srli_epi32(bf16_round_words(f), 16);
  // Pack 8 x u32 (each < 65536) into 8 x u16.
  __m128i lo = _mm256_castsi256_si128(r), hi = _mm256_extracti128_si256(r, 1);
  return _mm_packus_epi32(lo, hi);
}

int64_t half_to_f32_avx2(DType t, const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm256_storeu_ps(dst + i, t == DType::F16 ? _mm256_cvtph_ps(h) : bf16x8_to_f32(h));
  }
  return i;
}

int64_t f32_to_half_avx2(DType t, const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 f = _mm256_loadu_ps(src + i);
    __m128i h = t == DType::F16 ? _mm256_cvtps_ph(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
                                : f32x8_to_bf16(f);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
  }
  return i;
}

}  // namespace subq::simd
