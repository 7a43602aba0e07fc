// The integer rules of symmetric quantization, one definition for the CPU and the CUDA
// kernels (semantics: docs/semantics.md, "Quantized attention"; layout: quant_params.h).
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define SUBQ_QUANT_FN __host__ __device__ __forceinline__
#else
#define SUBQ_QUANT_FN inline
#endif

namespace subq {

// Round half away from zero, clamped to the symmetric range. |v| <= qmax (up to a rounding
// of max|x| / scale), so truncation to int is exact and the fraction v - i too: the
// integer form vectorises where std::round would be a libm call per value.
// A NaN (x was NaN) quantizes to 0.
SUBQ_QUANT_FN int quantize_value(float v, int qmax) {
  const float q = float(qmax);
  // One select per step (not nested), which GCC 12 vectorises over a row.
  v = v == v ? v : 0.f;
  v = v > q ? q : v;
  v = v < -q ? -q : v;
  int i = int(v);
  const float f = v - float(i);
  i += int(f >= 0.5f) - int(f <= -0.5f);
  i = i > qmax ? qmax : i;
  return i < -qmax ? -qmax : i;
}

// pv 'int8''s P' (docs/semantics.md): round half away from zero of v in [0, 256) as
// trunc(fp32(v + kRoundU8)), the sum rounded to fp32 on its own (never fused with the
// product that made v), which is that rounding for every fp32 v there (checked
// exhaustively); 0.5 itself would take v = 0.5 - 2^-25 to 1. v <= 0 gives 0.
constexpr float kRoundU8 = 0.5f - 0x1p-25f;
SUBQ_QUANT_FN int round_u8(float v) { return v > 0.f ? int(v + kRoundU8) : 0; }

// Element x of a quantized row, as an integer. The ranges are symmetric: a stored -128
// (INT8) or -8 (INT4), which quantize never writes, reads as -127 or -7.
SUBQ_QUANT_FN int quant_value(const uint8_t* row, int bits, int64_t x) {
  if (bits == 8) {
    const int v = int8_t(row[x]);
    return v < -127 ? -127 : v;
  }
  const int nib = (row[x / 2] >> (4 * (x % 2))) & 15;
  return nib >= 8 ? (nib == 8 ? -7 : nib - 16) : nib;
}

// Elements [0, n) of a quantized row as int8 (quant_value's rule), in loops per width that
// the compiler vectorises: a nibble n as (n ^ 8) - 8 (sign-extended), -8 read as -7.
SUBQ_QUANT_FN void quant_values(const uint8_t* row, int bits, int64_t n, int8_t* out) {
  if (bits == 8) {
    for (int64_t x = 0; x < n; ++x) {
      const int8_t v = int8_t(row[x]);
      out[x] = v < -127 ? int8_t(-127) : v;
    }
    return;
  }
  for (int64_t i = 0; i < n / 2; ++i) {
    const int lo = ((row[i] & 15) ^ 8) - 8, hi = ((row[i] >> 4) ^ 8) - 8;
    out[2 * i] = int8_t(lo < -7 ? -7 : lo);
    out[2 * i + 1] = int8_t(hi < -7 ? -7 : hi);
  }
  if (n % 2) {
    const int lo = ((row[n / 2] & 15) ^ 8) - 8;
    out[n - 1] = int8_t(lo < -7 ? -7 : lo);
  }
}

}  // namespace subq
