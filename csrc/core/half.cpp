#include "half.h"

#include "cpu_features.h"
#include "half_simd.h"

namespace subq {

void half_to_f32(DType t, const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  if (simd_level() == SimdLevel::AVX512) i = simd::half_to_f32_avx512(t, src, dst, n);
  else if (simd_level() == SimdLevel::AVX2) i = simd::half_to_f32_avx2(t, src, dst, n);
  if (t == DType::F16) for (; i < n; ++i) dst[i] = f16_to_f32(src[i]);
  else for (; i < n; ++i) dst[i] = bf16_to_f32(src[i]);
}

void f32_to_half(DType t, const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  if (simd_level() == SimdLevel::AVX512) i = simd::f32_to_half_avx512(t, src, dst, n);
  else if (simd_level() == SimdLevel::AVX2) i = simd::f32_to_half_avx2(t, src, dst, n);
  if (t == DType::F16) for (; i < n; ++i) dst[i] = f32_to_f16(src[i]);
  else for (; i < n; ++i) dst[i] = f32_to_bf16(src[i]);
}

}  // namespace subq
