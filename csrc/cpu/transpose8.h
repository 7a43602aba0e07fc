// 8x8 transposes of 32-bit elements in ymm registers (AVX). Internal linkage: included from files
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

// Lane i of the result = the sum of r[i]'s lanes: a tree that halves the vectors at each
// level (an unpack or shuffle pair and an add per output), 12 shuffles and 7 adds where
// a transpose and an add tree take 24 and 7.
inline __m256 lane_sums8(const __m256 r[8]) {
  __m256 a[4], b[2];
  for (int k = 0; k < 4; ++k)  // a[k], 128-bit half h: partial sums of r[2k], r[2k+1], r[2k], r[2k+1]
    a[k] = _mm256_add_ps(_mm256_unpacklo_ps(r[2 * k], r[2 * k + 1]), _mm256_unpackhi_ps(r[2 * k], r[2 * k + 1]));
  for (int k = 0; k < 2; ++k)  // b[k], half h: partial sums of r[4k .. 4k+3]
    b[k] = _mm256_add_ps(_mm256_shuffle_ps(a[2 * k], a[2 * k + 1], 0x44), _mm256_shuffle_ps(a[2 * k], a[2 * k + 1], 0xEE));
  return _mm256_add_ps(_mm256_permute2f128_ps(b[0], b[1], 0x20), _mm256_permute2f128_ps(b[0], b[1], 0x31));
}

// In memory: d[i*ds + j] = s[j*ss + i].
inline void transpose8x8(const float* s, int64_t ss, float* d, int64_t ds) {
  __m256 r[8];
  for (int k = 0; k < 8; ++k) r[k] = _mm256_loadu_ps(s + k * ss);
  transpose8(r);
  for (int k = 0; k < 8; ++k) _mm256_storeu_ps(d + k * ds, r[k]);
}

// d[c*ds + r] = s[r*ss + c] for r < rows, c < cols, of 32-bit elements (floats, or bf16
// pairs as words: the fp32 shuffles move bits, never convert): 8 x 8 blocks in
// registers, the edges element by element.
template <class T>
inline void transpose_words(const T* s, int64_t ss, int64_t rows, int64_t cols, T* d, int64_t ds) {
  static_assert(sizeof(T) == 4, "32-bit elements");
  int64_t r = 0;
  for (; r + 8 <= rows; r += 8) {
    int64_t c = 0;
    for (; c + 8 <= cols; c += 8)
      transpose8x8(reinterpret_cast<const float*>(s + r * ss + c), ss, reinterpret_cast<float*>(d + c * ds + r), ds);
    for (; c < cols; ++c)
      for (int i = 0; i < 8; ++i) d[c * ds + r + i] = s[(r + i) * ss + c];
  }
  for (; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) d[c * ds + r] = s[r * ss + c];
}

}  // namespace
}  // namespace subq::cpu
