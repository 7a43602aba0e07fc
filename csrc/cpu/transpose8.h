// 8x8 fp32 transposes in ymm registers (AVX). Internal linkage: included from files
// compiled with different ISA flags.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace subq::cpu {
namespace {

// In registers: r[i] = row i in, r[j] = column j out.
inline void transpose8(__m256 r[8]) {
  __m256 t[8];
  for (int k = 0; k < 8; k += 2) {
    t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
    t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
  }
  for (int k = 0; k < 8; k += 4) {
    r[k] = _mm256_shuffle_ps(t[k], t[k + 2], 0x44);
    r[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], 0xEE);
    r[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0x44);
    r[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0xEE);
  }
  for (int k = 0; k < 4; ++k) {
    t[k] = _mm256_permute2f128_ps(r[k], r[k + 4], 0x20);
    t[k + 4] = _mm256_permute2f128_ps(r[k], r[k + 4], 0x31);
  }
  for (int k = 0; k < 8; ++k) r[k] = t[k];
}

// In memory: d[i*ds + j] = s[j*ss + i].
inline void transpose8x8(const float* s, int64_t ss, float* d, int64_t ds) {
  __m256 r[8];
  for (int k = 0; k < 8; ++k) r[k] = _mm256_loadu_ps(s + k * ss);
  transpose8(r);
  for (int k = 0; k < 8; ++k) _mm256_storeu_ps(d + k * ds, r[k]);
}

}  // namespace
}  // namespace subq::cpu
