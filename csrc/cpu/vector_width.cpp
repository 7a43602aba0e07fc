#include "vector_width.h"

#include <algorithm>

#include "../core/cpu_features.h"
#include "peak_simd.h"
#include "planner.h"

namespace subq::cpu {

namespace {

// flops per second of the thread's CPU time in one width's FMA loop, best of a few short
// rounds (interleaved by the caller, so a burst of load elsewhere hits both).
template <class Loop>
double rate(Loop loop) {
  const double t0 = thread_cpu_seconds();
  const double flops = loop(20000);
  return flops / (thread_cpu_seconds() - t0);
}

// "512" (zmm) unless ymm is clearly faster: zmm halves the instruction count. Without
// AVX-512 the first candidate, 256, holds (and is what the AVX2 kernels use).
int measure_width() {
  const CpuFeatures& f = cpu_features();
  if (!(f.avx512f && f.avx512vl && f.fma)) return -1;
  double z = 0, y = 0;
  for (int r = 0; r < 6; ++r) {
    z = std::max(z, rate(simd::fma_loop_avx512));
    y = std::max(y, rate(simd::fma_loop_avx2));
  }
  return z * 1.1 >= y ? 1 : 0;
}

PlanChoice g_width("vector_bits", {"256", "512"}, measure_width, "SUBQ_VECTOR_BITS");

}  // namespace

void set_vector_width(VectorWidth w) { g_width.set(w == VectorWidth::W256 ? 0 : w == VectorWidth::W512 ? 1 : -1); }

bool use_zmm() { return g_width.get() == 1; }

int vector_bits() {
  switch (simd_level()) {
    case SimdLevel::AVX512: return use_zmm() ? 512 : 256;
    case SimdLevel::AVX2: return 256;
    default: return 32;
  }
}

}  // namespace subq::cpu
