// ISA-specific bodies for peak.cpp: each returns the flops it performed.
#pragma once
#include <cstdint>

namespace subq::cpu::simd {
double fma_loop_avx512(int64_t iters);
double fma_loop_avx2(int64_t iters);

namespace {

// The body over vector type V (vec_*.h): N independent accumulators, enough to hide the
// FMA latency on the ISA's FMA ports.
template <class V, int N>
double fma_loop(int64_t iters) {
  typename V::T a[N];
  for (int i = 0; i < N; ++i) a[i] = V::set1(float(i) * 1e-3f);
  const typename V::T x = V::set1(0.999999f), y = V::set1(1e-7f);
  for (int64_t it = 0; it < iters; ++it)
    // Unrolled so every accumulator stays in a register (GCC keeps the array
    // on the stack otherwise, and the loop then measures loads and stores).
#pragma GCC unroll 32
    for (int i = 0; i < N; ++i) a[i] = V::fmadd(a[i], x, y);
  typename V::T s = a[0];
  for (int i = 1; i < N; ++i) s = V::add(s, a[i]);
  float t[V::W];
  V::store(t, s);
  volatile float sink = t[0];
  (void)sink;
  return double(iters) * N * V::W * 2;
}

}  // namespace
}  // namespace subq::cpu::simd
