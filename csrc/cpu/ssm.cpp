// Dispatch of the state-space kernels to a vector form, the portable (scalar)
// instantiation, and the conv1d decode update (a few values per channel: scalar).
#include "ssm.h"

#include <cmath>
#include <vector>

#include "../core/cpu_features.h"
#include "../core/thread_pool.h"
#include "../core/error.h"
#include "conv1d_kernel.h"
#include "conv1d_plan.h"
#include "selective_scan_kernel.h"
#include "ssm_simd.h"
#include "vec_scalar.h"
#include "vector_width.h"

namespace subq::cpu {

const SsmKernels& ssm_kernels_scalar() {
  static const SsmKernels k{SelectiveScan<VecScalar>::run, StateUpdate<VecScalar>::run,
                            Conv1d<VecScalar>::run};
  return k;
}

const SsmKernels& ssm_kernels() {
  switch (simd_level()) {
    case SimdLevel::AVX512: return use_zmm() ? ssm_kernels_zmm() : ssm_kernels_ymm();
    case SimdLevel::AVX2: return ssm_kernels_avx2();
    default: return ssm_kernels_scalar();
  }
}

namespace {

float silu(float v) { return v / (1.f + std::exp(-v)); }

}  // namespace

void selective_scan(const SelectiveScanParams& p) {
  const SsmKernels& k = ssm_kernels();
  ThreadPool::instance().run([&](int t, int n) { k.scan(p, t, n); });
}

void selective_state_update(const StateUpdateParams& p) {
  const SsmKernels& k = ssm_kernels();
  ThreadPool::instance().run([&](int t, int n) { k.update(p, t, n); });
}

void causal_conv1d(const Conv1dParams& p) {
  const SsmKernels& k = ssm_kernels();
  const bool stream = conv1d_stream(p);
  ThreadPool::instance().run([&](int t, int n) { k.conv(p, stream, t, n); });
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
