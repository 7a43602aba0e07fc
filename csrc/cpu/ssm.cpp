// Dispatch of the state-space kernels to a vector form, the portable (scalar)
// instantiation, and the conv1d decode update (a few values per channel: scalar).
#include "ssm.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <vector>

#include "../core/cpu_features.h"
#include "../core/thread_pool.h"
#include "../core/error.h"
#include "conv1d_kernel.h"
#include "selective_scan_kernel.h"
#include "ssm_simd.h"
#include "vec_scalar.h"

namespace subq::cpu {

const SsmKernels& ssm_kernels_scalar() {
  static const SsmKernels k{"scalar", SelectiveScan<VecScalar>::run, StateUpdate<VecScalar>::run,
                            Conv1d<VecScalar>::run};
  return k;
}

namespace {

// Whether the zmm kernels beat the ymm ones on one thread, for a small problem shaped
// like a Mamba layer (varying B/C, softplus, N = 16). The two are timed alternately and
// each keeps its best run, so a burst of load elsewhere does not decide the choice.
bool zmm_faster() {
  const int64_t d = 64, L = 512, N = 16;
  std::vector<float> u(d * L, 0.5f), delta(d * L, -1.f), A(d * N, -1.f), B(N * L, 0.25f), C(N * L, 0.5f), out(d * L);
  auto view = [](float* data, std::initializer_list<int64_t> shape) {
    TensorView t;
    t.data = data;
    t.ndim = int(shape.size());
    int64_t s = 1, i = t.ndim;
    for (auto it = shape.end(); it != shape.begin();) {
      --it;
      --i;
      t.shape[i] = *it;
      t.stride[i] = s;
      s *= *it;
    }
    t.capacity = s;
    return t;
  };
  SelectiveScanParams p;
  p.u = view(u.data(), {1, d, L});
  p.delta = view(delta.data(), {1, d, L});
  p.A = view(A.data(), {d, N});
  p.B = view(B.data(), {1, 1, N, L});
  p.C = view(C.data(), {1, 1, N, L});
  p.out = view(out.data(), {1, d, L});
  p.batch = 1;
  p.dim = d;
  p.len = L;
  p.dstate = N;
  p.B_varying = p.C_varying = p.softplus = true;
  p.seqs = {{0, 0, L, 0}};
  double best[2] = {1e30, 1e30};
  const SsmKernels* forms[2] = {&ssm_kernels_zmm(), &ssm_kernels_ymm()};
  for (int r = 0; r < 10; ++r) {
    const int f = r & 1;
    const auto t0 = std::chrono::steady_clock::now();
    forms[f]->scan(p, 0, 1);
    best[f] = std::min(best[f], std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best[0] < best[1];
}

// At the AVX-512 level: -1 = not measured yet, 0 = zmm, 1 = ymm. Forced values stick.
std::atomic<int> g_wide{-1};
std::mutex g_measure;

const SsmKernels& avx512_kernels() {
  if (g_wide.load() < 0) {
    std::lock_guard<std::mutex> lock(g_measure);
    if (g_wide.load() < 0) {
      g_wide.store(zmm_faster() ? 0 : 1);
    }
  }
  return g_wide.load() == 1 ? ssm_kernels_ymm() : ssm_kernels_zmm();
}

const SsmKernels& kernels() {
  switch (simd_level()) {
    case SimdLevel::AVX512: return avx512_kernels();
    case SimdLevel::AVX2: return ssm_kernels_avx2();
    default: return ssm_kernels_scalar();
  }
}

float silu(float v) { return v / (1.f + std::exp(-v)); }

}  // namespace

std::string ssm_vector(const std::string& force) {
  if (force == "zmm") g_wide.store(0);
  else if (force == "ymm") g_wide.store(1);
  else if (force == "auto") g_wide.store(-1);
  else if (!force.empty()) range_error("vector form must be 'zmm', 'ymm' or 'auto', got '" + force + "'");
  return kernels().name;
}

void selective_scan(const SelectiveScanParams& p) {
  const SsmKernels& k = kernels();
  ThreadPool::instance().run([&](int t, int n) { k.scan(p, t, n); });
}

void selective_state_update(const StateUpdateParams& p) {
  const SsmKernels& k = kernels();
  ThreadPool::instance().run([&](int t, int n) { k.update(p, t, n); });
}

void causal_conv1d(const Conv1dParams& p) {
  const SsmKernels& k = kernels();
  ThreadPool::instance().run([&](int t, int n) { k.conv(p, t, n); });
}

void causal_conv1d_update(const Conv1dUpdateParams& p) {
  const int64_t items = p.batch * p.dim, K = p.state_len, T = p.steps, w = p.width;
  ThreadPool::instance().run([&](int t, int n) {
    std::vector<float> buf(K + T), out(T), wt(w);
    for (int64_t it = items * t / n; it < items * (t + 1) / n; ++it) {
      const int64_t b = it / p.dim, c = it % p.dim, slot = p.slots[size_t(b)];
      const int64_t orow = b * p.out.stride[0] + c * p.out.stride[1];
      if (slot < 0) {
        std::fill(out.begin(), out.end(), 0.f);
        write_row<VecScalar>(p.out, orow, T, out.data());
        continue;
      }
      const int64_t srow = slot * p.conv_state.stride[0] + c * p.conv_state.stride[1];
      read_row<VecScalar>(p.conv_state, srow, K, buf.data());
      read_row<VecScalar>(p.x, b * p.x.stride[0] + c * p.x.stride[1], T, buf.data() + K);
      for (int64_t k = 0; k < w; ++k) wt[k] = read_elem(p.weight, c * p.weight.stride[0] + k);
      const float bias = p.bias.data ? read_elem(p.bias, c * p.bias.stride[0]) : 0.f;
      for (int64_t s = 0; s < T; ++s) {
        // The window ends at the new input buf[K + s].
        float acc = bias;
        for (int64_t k = 0; k < w; ++k) acc += wt[k] * buf[K + s - (w - 1) + k];
        out[s] = p.silu ? silu(acc) : acc;
      }
      write_row<VecScalar>(p.conv_state, srow, K, buf.data() + T);
      write_row<VecScalar>(p.out, orow, T, out.data());
    }
  });
}

}  // namespace subq::cpu
