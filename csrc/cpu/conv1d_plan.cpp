// The planner choices of causalConv1d's stores (conv1d_plan.h) and the probe that
// measures them.
#include "conv1d_plan.h"

#include <algorithm>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "../core/thread_pool.h"
#include "planner.h"
#include "ssm_simd.h"

namespace subq::cpu {

namespace {

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
  Conv1dParams p;
  const int64_t shape[3] = {1, dim, len}, taps[2] = {dim, 4};
  p.x = contiguous_view(x, DType::F32, Device{}, shape, 3);
  p.out = contiguous_view(out, DType::F32, Device{}, shape, 3);
  p.weight = contiguous_view(w, DType::F32, Device{}, taps, 2);
  p.weight.stride[0] = 0, p.weight.capacity = 4;  // every channel the same taps
  p.batch = 1, p.dim = dim, p.len = len, p.width = 4, p.silu = with_silu;
  p.seqs.push_back({0, 0, len, 0});
  const SsmKernels& k = ssm_kernels();
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

bool conv1d_stream(const Conv1dParams& p) {
  const bool large = p.out.dtype == DType::F32 && p.out.numel() * 4 >= kStreamBytes;
  return large && (p.silu ? g_conv_stream_silu : g_conv_stream).get() == 1;
}

}  // namespace subq::cpu
