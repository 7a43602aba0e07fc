// Dispatch of the state-space kernels to a vector form, the portable (scalar)
// instantiation, and the conv1d decode update (a few values per channel: scalar).
#include "ssm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "../core/cpu_features.h"
#include "../core/thread_pool.h"
#include "../core/error.h"
#include "conv1d_kernel.h"
#include "planner.h"
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

namespace {

const SsmKernels& kernels() {
  switch (simd_level()) {
    case SimdLevel::AVX512: return use_zmm() ? ssm_kernels_zmm() : ssm_kernels_ymm();
    case SimdLevel::AVX2: return ssm_kernels_avx2();
    default: return ssm_kernels_scalar();
  }
}

float silu(float v) { return v / (1.f + std::exp(-v)); }

// An fp32 output larger than the caches is not read back soon: streaming stores skip
// reading each destination line before writing it (a third of the traffic). Whether that
// wins depends on the machine and on the loop: on the Zen 5, 1.2-1.3x faster without an
// activation but 0.82-0.93x with silu, whose longer loop body already hides the reads.
// So each case is a planner choice, measured when the first such output comes.
constexpr int64_t kStreamBytes = int64_t(8) << 20;

// The probe's memory, mapped in one go. Not Buf: 2 MiB pages can stall the first touch on
// compaction for far longer than the probe, and faulting 4 KiB pages one by one costs as
// much as the timed runs. Left zero: the FMAs and silu cost the same on any normal value.
struct ProbeMemory {
  float* p = nullptr;
  size_t bytes;
  explicit ProbeMemory(size_t b) : bytes(b) {
#ifdef MAP_POPULATE
    void* m = mmap(nullptr, b, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (m != MAP_FAILED) p = static_cast<float*>(m);
#endif
  }
  ~ProbeMemory() {
#ifdef MAP_POPULATE
    if (p) munmap(p, bytes);
#endif
  }
};

// Index 1 ("on") when streaming stores are clearly faster (median 3% lower) on a width-4
// conv whose input and output (24 MiB each) together exceed the Zen 5's 32 MiB last-level
// cache, so each pass finds out's lines evicted. A pass runs the channels in 16 slices,
// each on all threads, the candidates alternating slice by slice (and by pass), so a
// burst of load elsewhere hits both, and timed by the threads' CPU time, so time spent
// descheduled is left out; 2 timed passes after one that settles the caches.
// The probe took 40-65 ms on two Zen 5 cores at load 7, most of it mapping the memory.
int measure_stream(bool with_silu) {
  constexpr int64_t dim = 48, len = 131072, size = dim * len;
  ProbeMemory mem(size_t(2 * size) * sizeof(float));
  if (!mem.p) return -1;
  float* const x = mem.p;
  float* const out = x + size;
  float w[4] = {0.25f, 0.5f, 0.75f, 1.f};
  auto view = [](float* data, std::initializer_list<int64_t> shape, std::initializer_list<int64_t> stride) {
    TensorView v;
    v.data = data;
    v.ndim = int(shape.size());
    int i = 0;
    for (int64_t e : shape) v.shape[i++] = e;
    i = 0;
    for (int64_t e : stride) v.stride[i++] = e;
    v.capacity = 1;
    for (int64_t e : shape) v.capacity *= e;
    return v;
  };
  Conv1dParams p;
  p.x = view(x, {1, dim, len}, {size, len, 1});
  p.out = view(out, {1, dim, len}, {size, len, 1});
  p.weight = view(w, {dim, 4}, {0, 1});  // every channel the same taps
  p.batch = 1, p.dim = dim, p.len = len, p.width = 4, p.silu = with_silu;
  p.seqs.push_back({0, 0, len, 0});
  const SsmKernels& k = kernels();
  constexpr int kSlices = 16, kPasses = 3;
  const int threads = ThreadPool::instance().num_threads();
  std::vector<double> times[2];
  std::vector<double> spent(static_cast<size_t>(threads));
  for (int pass = 0; pass < kPasses; ++pass)
    for (int slice = 0; slice < kSlices; ++slice) {
      const bool stream = (slice + pass) % 2;
      ThreadPool::instance().run(threads, [&](int t, int n) {
        const double t0 = thread_cpu_seconds();
        k.conv(p, stream, slice * n + t, kSlices * n);
        spent[size_t(t)] = thread_cpu_seconds() - t0;
      });
      double s = 0;
      for (double c : spent) s += c;
      if (pass > 0) times[stream].push_back(s);
    }
  for (auto& v : times) std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return times[1][times[1].size() / 2] < 0.97 * times[0][times[0].size() / 2] ? 1 : 0;
}

PlanChoice g_conv_stream("conv1d_stream", {"off", "on"}, [] { return measure_stream(false); });
PlanChoice g_conv_stream_silu("conv1d_stream_silu", {"off", "on"}, [] { return measure_stream(true); });

}  // namespace

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
  const bool large = p.out.dtype == DType::F32 && p.out.numel() * 4 >= kStreamBytes;
  const bool stream = large && (p.silu ? g_conv_stream_silu : g_conv_stream).get() == 1;
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
