// Compiled with AVX-512 flags; called only when the CPU has them.
#include <immintrin.h>

#include "half_simd.h"
#include "half_vec.h"

namespace subq::simd {

static inline __m512 bf16x16_to_f32(__m256i h) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

int64_t half_to_f32_avx512(DType t, const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
    _mm512_storeu_ps(dst + i, t == DType::F16 ? _mm512_cvtph_ps(h) : bf16x16_to_f32(h));
  }
  return i;
}

int64_t f32_to_half_avx512(DType t, const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 f = _mm512_loadu_ps(src + i);
    __m256i h = t == DType::F16 ? _mm512_cvtps_ph(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
                                : f32x16_to_bf16(f);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), h);
  }
  return i;
}

}  // namespace subq::simd
