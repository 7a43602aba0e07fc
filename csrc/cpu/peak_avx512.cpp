#include <immintrin.h>

// GCC 12's AVX-512 intrinsic headers trip -Wuninitialized on their own _mm*_undefined_*
// (as in vec_avx512.h).
#pragma GCC diagnostic ignored "-Wuninitialized"

#include "peak_simd.h"

namespace subq::cpu::simd {

// 24 independent accumulators hide the FMA latency on two FMA ports.
double fma_loop_avx512(int64_t iters) {
  __m512 a[24];
  for (int i = 0; i < 24; ++i) a[i] = _mm512_set1_ps(float(i) * 1e-3f);
  const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it)
    // Unrolled so every accumulator stays in a register (GCC keeps the array
    // on the stack otherwise, and the loop then measures loads and stores).
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i) a[i] = _mm512_fmadd_ps(a[i], x, y);
  __m512 s = a[0];
  for (int i = 1; i < 24; ++i) s = _mm512_add_ps(s, a[i]);
  volatile float sink = _mm512_reduce_add_ps(s);
  (void)sink;
  return double(iters) * 24 * 16 * 2;
}

}  // namespace subq::cpu::simd
