#include "peak.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <vector>

#include "../core/cpu_features.h"
#include "../core/thread_pool.h"
#include "peak_simd.h"

namespace subq::cpu {

using Clock = std::chrono::steady_clock;

static double scalar_fma_loop(int64_t iters) {
  float a[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  for (int64_t it = 0; it < iters; ++it)
    for (float& v : a) v = v * 0.999999f + 1e-7f;
  volatile float sink = a[0] + a[7];
  (void)sink;
  return double(iters) * 8 * 2;
}

static double fma_loop(SimdLevel level, int64_t iters) {
  switch (level) {
    case SimdLevel::AVX512: return simd::fma_loop_avx512(iters);
    case SimdLevel::AVX2: return simd::fma_loop_avx2(iters);
    default: return scalar_fma_loop(iters);
  }
}

// Runs `body(t)` on every thread repeatedly for about `seconds` and returns the best
// rate (units per second) of several rounds: noise only ever slows a round down.
template <class Body>
static double best_rate(int threads, double seconds, Body body) {
  const int rounds = 5;
  double best = 0;
  for (int r = 0; r < rounds; ++r) {
    std::atomic<double> units{0};
    auto t0 = Clock::now();
    ThreadPool::instance().run(threads, [&](int t, int) {
      double u = 0;
      const auto end = Clock::now() + std::chrono::duration<double>(seconds / rounds);
      do u += body(t); while (Clock::now() < end);
      double cur = units.load();
      while (!units.compare_exchange_weak(cur, cur + u)) {}
    });
    double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    best = std::max(best, units.load() / dt);
  }
  return best;
}

// The peak is the best of every enabled width: some CPUs (e.g. Xeons with one
// 512-bit FMA port) run 256-bit FMAs faster than 512-bit ones.
double fma_peak_gflops(int threads, double seconds) {
  double best = 0;
  const int top = int(simd_level());
  for (int l = top; l >= 0 && l >= top - 1; --l) {
    const SimdLevel level = SimdLevel(l);
    fma_loop(level, 100000);  // wake the vector unit up
    const double per = top > 0 ? seconds / 2 : seconds;
    best = std::max(best, best_rate(threads, per, [level](int) { return fma_loop(level, 200000); }));
  }
  return best * 1e-9;
}

double copy_bandwidth_gbs(int threads, double bytes, double seconds) {
  const size_t n = size_t(bytes) / sizeof(float);
  std::vector<std::vector<float>> src(threads), dst(threads);
  ThreadPool::instance().run(threads, [&](int t, int) {  // first touch on the thread that copies
    src[t].assign(n, 1.0f);
    dst[t].assign(n, 0.0f);
  });
  return best_rate(threads, seconds, [&](int t) {
    std::memcpy(dst[t].data(), src[t].data(), n * sizeof(float));
    return 2.0 * double(n) * sizeof(float);
  }) * 1e-9;
}

}  // namespace subq::cpu
