// fp16 / bf16 <-> fp32. Scalar conversions are exact IEEE (round to nearest even,
// NaN kept quiet); the bulk versions pick F16C / AVX-512 paths at run time and give
// bit-identical results.
#pragma once
#include <cstdint>
#include <cstring>

#include "dtype.h"

namespace subq {

inline float bits_to_f32(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
inline uint32_t f32_to_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }

inline float bf16_to_f32(uint16_t h) { return bits_to_f32(uint32_t(h) << 16); }

inline uint16_t f32_to_bf16(float f) {
  uint32_t u = f32_to_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}

inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
  if (exp == 0x1f) return bits_to_f32(sign | 0x7f800000u | (man << 13));  // inf / nan
  if (exp == 0) {  // zero or subnormal: value = man * 2^-24
    float v = float(man) * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  return bits_to_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

inline uint16_t f32_to_f16(float f) {
  uint32_t u = f32_to_bits(f);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  u &= 0x7fffffffu;
  if (u > 0x7f800000u) return sign | 0x7e00u;            // nan
  if (u >= 0x477ff000u) return sign | 0x7c00u;           // overflow (>= 65520) -> inf
  if (u < 0x38800000u) {                                 // subnormal or zero in fp16
    // Adding 0.5 aligns the mantissa so the FPU does the round-to-nearest-even.
    float v = bits_to_f32(u) + 0.5f;
    return sign | uint16_t(f32_to_bits(v) - f32_to_bits(0.5f));
  }
  const uint32_t odd = (u >> 13) & 1u;
  u += 0xc8000fffu + odd;  // rebias exponent (-112 << 23) and round
  return sign | uint16_t(u >> 13);
}

// Bulk conversions between a 16-bit float dtype (F16 or BF16) and fp32.
void half_to_f32(DType t, const uint16_t* src, float* dst, int64_t n);
void f32_to_half(DType t, const float* src, uint16_t* dst, int64_t n);

}  // namespace subq
