#include <immintrin.h>

#include "peak_simd.h"

namespace subq::cpu::simd {

double fma_loop_avx2(int64_t iters) {
  __m256 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm256_set1_ps(float(i) * 1e-3f);
  const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it)
    // Unrolled so every accumulator stays in a register (GCC keeps the array
    // on the stack otherwise, and the loop then measures loads and stores).
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) a[i] = _mm256_fmadd_ps(a[i], x, y);
  __m256 s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, a[i]);
  alignas(32) float t[8];
  _mm256_store_ps(t, s);
  volatile float sink = t[0];
  (void)sink;
  return double(iters) * 12 * 8 * 2;
}

}  // namespace subq::cpu::simd
