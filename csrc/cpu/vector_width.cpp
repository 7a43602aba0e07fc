#include "vector_width.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "../core/cpu_features.h"
#include "../core/env_warnings.h"
#include "peak_simd.h"

namespace subq::cpu {

namespace {

// flops per second of one width's FMA loop, best of a few short rounds
// (interleaved by the caller, so a burst of load elsewhere hits both).
template <class Loop>
double rate(Loop loop) {
  const auto t0 = std::chrono::steady_clock::now();
  const double flops = loop(20000);
  return flops / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool measure_zmm_faster() {
  double z = 0, y = 0;
  for (int r = 0; r < 6; ++r) {
    z = std::max(z, rate(simd::fma_loop_avx512));
    y = std::max(y, rate(simd::fma_loop_avx2));
  }
  return z * 1.1 >= y;  // zmm unless ymm wins clearly: zmm halves the instruction count
}

int initial_setting() {
  const char* env = std::getenv("SUBQ_VECTOR_BITS");
  if (env && !std::strcmp(env, "256")) return 256;
  if (env && !std::strcmp(env, "512")) return 512;
  if (env && std::strcmp(env, "auto")) env_warning("SUBQ_VECTOR_BITS", env, "expected 256, 512 or auto; using auto");
  return 0;
}

std::atomic<int> g_setting{initial_setting()};  // 0 = auto

bool measured_zmm() {
  static const bool zmm = measure_zmm_faster();  // thread-safe one-off
  return zmm;
}

}  // namespace

void set_vector_width(VectorWidth w) { g_setting.store(int(w)); }

bool use_zmm() {
  const int s = g_setting.load();
  if (s == 512) return true;
  if (s == 256) return false;
  return measured_zmm();
}

int vector_bits() {
  switch (simd_level()) {
    case SimdLevel::AVX512: return use_zmm() ? 512 : 256;
    case SimdLevel::AVX2: return 256;
    default: return 32;
  }
}

}  // namespace subq::cpu
