// Vector bodies of the bulk conversions; each returns how many elements it
// converted (a multiple of its vector width) and leaves the tail to the caller.
#pragma once
#include <cstdint>

#include "dtype.h"

namespace subq::simd {
int64_t half_to_f32_avx512(DType t, const uint16_t* src, float* dst, int64_t n);
int64_t f32_to_half_avx512(DType t, const float* src, uint16_t* dst, int64_t n);
int64_t half_to_f32_avx2(DType t, const uint16_t* src, float* dst, int64_t n);
int64_t f32_to_half_avx2(DType t, const float* src, uint16_t* dst, int64_t n);
}  // namespace subq::simd
