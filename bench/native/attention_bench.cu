// GPU benchmark of the CUDA ops through the package's own runtime (no Node):
// dense attention at the GPU shapes of issue 3, split-KV decode, block-sparse
// attention at 10% density against dense at the same long shapes, quantized attention
// (INT8 / INT4 Q.K^T, P.V in the input's type; INT8 fp16 also with pv int8) beside
// dense at hd128, XAttention's scoring and selection against dense at the same shape,
// the selective scan and state update, plus the device's copy bandwidth measured in
// the same run.
//   subq_bench_native [--json FILE] [--quick] [--check] [--filter TEXT]
// --quick: the rows of scripts/gpu-quick.sh (dense and quantized at N 4096 and 16384,
// decode, XAttention, scan, update; no block-sparse), 5 runs each. --check runs each op once on tiny
// shapes (for compute-sanitizer). Each timed case reports the median of >= 5 runs
// (cudaEvent pairs on the op's stream, after a warm-up); a case that fails records
// its error and the rest still run.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../../csrc/core/error.h"
#include "../../csrc/cuda/backend.h"
#include "../../csrc/cuda/runtime.h"
#include "../../csrc/ops/attention.h"
#include "../../csrc/ops/merge.h"
#include "../../csrc/ops/quant.h"
#include "../../csrc/cuda/quant.h"
#include "../../csrc/ops/ssm.h"
#include "../../csrc/ops/xattention.h"
#include "../../csrc/cuda/ssm.h"
#include "../../csrc/cuda/xattention.h"

using namespace subq;

namespace {

void ok(cudaError_t e, const char* what) {
  if (e != cudaSuccess) runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

// Uniform values in [-1, 1) from a hash of the index, in the tensor's dtype.
__global__ void fill_kernel(void* data, int64_t n, DType dtype, uint32_t seed) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    uint32_t h = uint32_t(i) * 0x9e3779b9u ^ seed;
    h ^= h >> 16, h *= 0x7feb352du, h ^= h >> 15, h *= 0x846ca68bu, h ^= h >> 16;
    const float v = float(h) * (2.f / 4294967296.f) - 1.f;
    if (dtype == DType::F32) static_cast<float*>(data)[i] = v;
    else if (dtype == DType::F16) static_cast<__half*>(data)[i] = __float2half_rn(v);
    else static_cast<__nv_bfloat16*>(data)[i] = __float2bfloat16_rn(v);
  }
}

// A contiguous device tensor owned by the benchmark.
struct DeviceTensor {
  TensorView view;
  DeviceTensor(DType dtype, std::vector<int64_t> shape, uint32_t seed) {
    view.dtype = dtype;
    view.device = {DeviceKind::CUDA, 0};
    view.ndim = int(shape.size());
    int64_t n = 1;
    for (int i = view.ndim - 1; i >= 0; --i) view.shape[i] = shape[i], view.stride[i] = n, n *= shape[i];
    view.capacity = n;
    view.data = cuda::alloc(0, size_t(n) * dtype_size(dtype));
    if (!is_float(dtype)) return;  // an output the op fills
    fill_kernel<<<1024, 256, 0, cuda::stream(0)>>>(view.data, n, dtype, seed);
    ok(cudaGetLastError(), "fill");
  }
  ~DeviceTensor() { cuda::release(0, view.data); }
  DeviceTensor(const DeviceTensor&) = delete;
  DeviceTensor& operator=(const DeviceTensor&) = delete;
};

// Median and minimum milliseconds of `reps` runs of `enqueue` on the device stream.
template <class F>
std::pair<double, double> time_ms(F&& enqueue, int warmup, int reps) {
  cudaStream_t s = cuda::stream(0);
  for (int i = 0; i < warmup; ++i) enqueue();
  std::vector<cudaEvent_t> ev(2 * reps);
  for (auto& e : ev) ok(cudaEventCreate(&e), "cudaEventCreate");
  for (int i = 0; i < reps; ++i) {
    ok(cudaEventRecord(ev[2 * i], s), "cudaEventRecord");
    enqueue();
    ok(cudaEventRecord(ev[2 * i + 1], s), "cudaEventRecord");
  }
  cuda::wait(0);
  std::vector<double> ms(reps);
  for (int i = 0; i < reps; ++i) {
    float t = 0;
    ok(cudaEventElapsedTime(&t, ev[2 * i], ev[2 * i + 1]), "cudaEventElapsedTime");
    ms[i] = t;
  }
  for (auto& e : ev) cudaEventDestroy(e);
  std::sort(ms.begin(), ms.end());
  return {ms[reps / 2], ms[0]};
}

struct Case {
  std::string name;
  int64_t B, Hq, Hkv, Nq, Nk, D;
  bool causal;
  DType dtype;
  bool decode;
  int64_t block = 0;    // > 0: block-sparse, each query block reading
  double density = 0;   // this fraction of the key blocks (random, at least one)
  int qk_bits = 0;      // 8 or 4: quantizedAttention (per-block scales, smoothK, P.V in dtype)
  bool pv8 = false;     // quantizedAttention with pv 'int8' instead
};

std::string json_escape(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '"' || c == '\\') r += '\\';
    if (c == '\n') { r += "\\n"; continue; }
    r += c;
  }
  return r;
}

// 4*B*Hq*Nq*Nk*D multiply-adds-as-two, the visible fraction only when causal
// (the convention of docs/architecture.md: half of the square).
double attention_flops(const Case& c) { return 4.0 * c.B * c.Hq * c.Nq * c.Nk * c.D * (c.causal ? 0.5 : 1.0); }
// Bytes an ideal kernel moves: read q, k, v once, write out.
double attention_bytes(const Case& c) {
  return double(dtype_size(c.dtype)) * (2.0 * c.B * c.Hq * c.Nq * c.D + 2.0 * c.B * c.Hkv * c.Nk * c.D);
}

struct Timing {
  double median_ms = 0, min_ms = 0;
  double kept = 1;  // fraction of the key blocks a block-sparse case reads
};

// Device int32 or uint8 data copied from the host, owned by the benchmark.
struct DeviceBytes {
  void* data = nullptr;
  DeviceBytes(const void* host, size_t bytes) {
    data = cuda::alloc(0, bytes);
    ok(cudaMemcpy(data, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
  }
  ~DeviceBytes() { cuda::release(0, data); }
  DeviceBytes(const DeviceBytes&) = delete;
  DeviceBytes& operator=(const DeviceBytes&) = delete;
};

// A random block mask (one mask head per query head): every list the same length,
// round(density * key blocks) but at least one, ascending.
struct SparseMask {
  std::vector<int32_t> idx, cnt;
  std::unique_ptr<DeviceBytes> d_idx, d_cnt;
  double kept = 0;
  void bind(const Case& c, AttentionParams& p) {
    const int64_t nqb = (c.Nq + c.block - 1) / c.block, nkb = (c.Nk + c.block - 1) / c.block;
    const int64_t k = std::max<int64_t>(1, std::llround(c.density * nkb)), rows = c.B * c.Hq * nqb;
    std::vector<int32_t> ids(nkb);
    uint64_t state = 0x243f6a8885a308d3ull;
    idx.clear();
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t i = 0; i < nkb; ++i) ids[i] = int32_t(i);
      for (int64_t i = 0; i < k; ++i) {  // a partial Fisher-Yates shuffle picks k distinct blocks
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        std::swap(ids[i], ids[i + int64_t((state >> 33) % uint64_t(nkb - i))]);
      }
      std::sort(ids.begin(), ids.begin() + k);
      idx.insert(idx.end(), ids.begin(), ids.begin() + k);
    }
    cnt.assign(rows, int32_t(k));
    kept = double(k) / double(nkb);
    d_idx = std::make_unique<DeviceBytes>(idx.data(), idx.size() * 4);
    d_cnt = std::make_unique<DeviceBytes>(cnt.data(), cnt.size() * 4);
    BlockMask& m = p.mask;
    m.block = c.block, m.nqb = nqb, m.nkb = nkb, m.Hm = c.Hq;
    auto view = [&](TensorView& t, void* data, std::vector<int64_t> shape) {
      t.data = data, t.dtype = DType::I32, t.device = {DeviceKind::CUDA, 0}, t.ndim = int(shape.size());
      int64_t n = 1;
      for (int i = t.ndim - 1; i >= 0; --i) t.shape[i] = shape[i], t.stride[i] = n, n *= shape[i];
      t.capacity = n;
    };
    view(m.indices, d_idx->data, {c.B, c.Hq, nqb, k});
    view(m.counts, d_cnt->data, {c.B, c.Hq, nqb});
  }
};

Timing run_attention(const Case& c, int reps, bool check) {
  DeviceTensor q(c.dtype, {c.B, c.Hq, c.Nq, c.D}, 1), k(c.dtype, {c.B, c.Hkv, c.Nk, c.D}, 2),
      v(c.dtype, {c.B, c.Hkv, c.Nk, c.D}, 3), o(c.dtype, {c.B, c.Hq, c.Nq, c.D}, 4), lse(DType::F32, {c.B, c.Hq, c.Nq}, 5);
  AttentionOptions opt;
  opt.causal = c.causal;
  if (c.qk_bits) {
    QuantAttentionOptions qo;
    qo.attn = opt;
    qo.qk_bits = c.qk_bits;
    qo.pv = c.pv8 ? DType::I8 : c.dtype;
    QuantAttentionParams qp = quant_attention_prepare(q.view, &k.view, nullptr, &v.view, nullptr, qo);
    quant_attention_bind_outputs(qp, o.view, &lse.view);
    if (check) {
      cuda::quantized_attention(qp);
      return {};
    }
    const auto [med, best] = time_ms([&] { cuda::quantized_attention(qp); }, 2, reps);
    return {med, best, 1.0};
  }
  AttentionParams p = attention_prepare(q.view, k.view, v.view, opt);
  attention_bind_outputs(p, o.view, &lse.view);
  SparseMask mask;
  if (c.block) mask.bind(c, p);
  if (check) {
    cuda::attention(p);
    return {};
  }
  const auto [med, best] = time_ms([&] { cuda::attention(p); }, 2, reps);
  return {med, best, c.block ? mask.kept : 1.0};
}

std::string run_merge(DType dtype, int64_t B, int64_t H, int64_t N, int64_t D, int reps, bool check) {
  DeviceTensor o1(dtype, {B, H, N, D}, 1), o2(dtype, {B, H, N, D}, 2), out(dtype, {B, H, N, D}, 3);
  DeviceTensor l1(DType::F32, {B, H, N}, 4), l2(DType::F32, {B, H, N}, 5), l(DType::F32, {B, H, N}, 6);
  MergeParams p = merge_prepare(o1.view, l1.view, o2.view, l2.view, Layout::BHND);
  merge_bind_outputs(p, out.view, l.view);
  if (check) {
    cuda::merge_states(p);
    return "";
  }
  const auto [med, best] = time_ms([&] { cuda::merge_states(p); }, 2, reps);
  const double bytes = double(B * H * N) * (3.0 * D * dtype_size(dtype) + 12.0);
  char buf[256];
  std::snprintf(buf, sizeof buf, "\"median_ms\": %.4f, \"min_ms\": %.4f, \"gbs\": %.1f, \"runs\": %d", med, best,
                bytes / (med * 1e-3) / 1e9, reps);
  return buf;
}

// XAttention on q, k [1, H, N, D] (128-token blocks, stride S): the scoring and the
// selection of its scores (threshold 0.9), each timed with dense attention on the same
// q, k, v in the same run: "fractionOfDense" is the op's time over dense's (issue 11:
// scoring at most 6% of dense at stride 16, 10% at stride 8, N 32768).
std::string run_xattention(DType dt, int64_t H, int64_t N, int64_t D, int64_t S, bool select, int reps, bool check,
                           double* fraction) {
  DeviceTensor q(dt, {1, H, N, D}, 1), k(dt, {1, H, N, D}, 2), v(dt, {1, H, N, D}, 3), o(dt, {1, H, N, D}, 4);
  XAttentionOptions xo;
  xo.stride = S, xo.block = check ? 64 : 128;
  XAttentionParams p = xattention_prepare(q.view, k.view, xo);
  int64_t ss[4];
  xattention_scores_shape(p, ss);
  DeviceTensor scores(DType::F32, {ss[0], ss[1], ss[2], ss[3]}, 5), mask(DType::U8, {ss[0], ss[1], ss[2], ss[3]}, 0),
      counts(DType::I32, {ss[0], ss[1], ss[2]}, 0);
  xattention_bind_scores(p, scores.view);
  XSelectOptions so;
  so.thresholds = {0.9};
  XSelectParams sp = xattention_select_prepare(scores.view, so);
  xattention_bind_select(sp, mask.view, counts.view);
  auto op = [&] { select ? cuda::xattention_select(sp) : cuda::xattention_scores(p); };
  if (check) {
    cuda::xattention_scores(p);
    cuda::xattention_select(sp);
    return "";
  }
  cuda::xattention_scores(p);  // the scores the selection reads
  AttentionParams ap = attention_prepare(q.view, k.view, v.view, AttentionOptions{});
  attention_bind_outputs(ap, o.view, nullptr);
  const auto [med, best] = time_ms(op, 2, reps);
  const auto [dense, dense_best] = time_ms([&] { cuda::attention(ap); }, 2, reps);
  (void)dense_best;
  *fraction = med / dense;
  char buf[256];
  std::snprintf(buf, sizeof buf, "\"median_ms\": %.4f, \"min_ms\": %.4f, \"dense_ms\": %.4f, \"fractionOfDense\": %.4f, \"runs\": %d",
                med, best, dense, *fraction, reps);
  return buf;
}

// Selective scan, fp32, B and C varying (one group), softplus, as bench/cases/ssm.ts:
// compulsory bytes are u, delta and out (b d L each), B and C (b N L each), A.
std::string run_scan(int64_t b, int64_t d, int64_t N, int64_t L, int reps, bool check, double* gbs) {
  DeviceTensor u(DType::F32, {b, d, L}, 1), dl(DType::F32, {b, d, L}, 2), A(DType::F32, {d, N}, 3),
      Bt(DType::F32, {b, 1, N, L}, 4), Ct(DType::F32, {b, 1, N, L}, 5), out(DType::F32, {b, d, L}, 6);
  SelectiveScanInputs in;
  in.u = u.view, in.delta = dl.view, in.A = A.view, in.B = Bt.view, in.C = Ct.view, in.softplus = true;
  SelectiveScanParams p = selective_scan_prepare(in);
  selective_scan_bind_outputs(p, out.view, nullptr);
  if (check) {
    cuda::selective_scan(p);
    return "";
  }
  const auto [med, best] = time_ms([&] { cuda::selective_scan(p); }, 2, reps);
  const double bytes = 4.0 * (3.0 * b * d * L + 2.0 * b * N * L + d * N);
  *gbs = bytes / (med * 1e-3) / 1e9;
  char buf[256];
  std::snprintf(buf, sizeof buf, "\"median_ms\": %.4f, \"min_ms\": %.4f, \"gbs\": %.1f, \"gupdates\": %.1f, \"runs\": %d", med,
                best, *gbs, double(b * d * L * N) / (med * 1e-3) / 1e9, reps);
  return buf;
}

// The decode-step state update, fp32, states in place: 16 state sets in turn, so they
// come from memory rather than the L2 (as bench/cases/ssm.ts). Bytes: the state read
// and written, x / dt / out per channel, A once.
std::string run_update(int64_t b, int64_t d, int64_t N, int reps, bool check, double* gbs) {
  const int sets = check ? 1 : 16;
  std::vector<std::unique_ptr<DeviceTensor>> states;
  for (int i = 0; i < sets; ++i) states.push_back(std::make_unique<DeviceTensor>(DType::F32, std::vector<int64_t>{b, d, N}, 10 + i));
  DeviceTensor x(DType::F32, {b, d}, 1), dt(DType::F32, {b, d}, 2), A(DType::F32, {d, N}, 3), Bt(DType::F32, {b, 1, N}, 4),
      Ct(DType::F32, {b, 1, N}, 5), out(DType::F32, {b, d}, 6);
  std::vector<StateUpdateParams> ps;
  for (auto& st : states) {
    StateUpdateInputs in;
    in.state = st->view, in.x = x.view, in.dt = dt.view, in.A = A.view, in.B = Bt.view, in.C = Ct.view, in.softplus = true;
    ps.push_back(state_update_prepare(in));
    state_update_bind_output(ps.back(), out.view);
  }
  if (check) {
    cuda::selective_state_update(ps[0]);
    return "";
  }
  size_t next = 0;
  const auto [med, best] = time_ms([&] { cuda::selective_state_update(ps[next++ % ps.size()]); }, 2, reps);
  const double bytes = 4.0 * (2.0 * b * d * N + 3.0 * b * d + d * N);
  *gbs = bytes / (med * 1e-3) / 1e9;
  char buf[256];
  std::snprintf(buf, sizeof buf, "\"median_ms\": %.4f, \"min_ms\": %.4f, \"gbs\": %.1f, \"runs\": %d", med, best, *gbs, reps);
  return buf;
}

// Device-to-device copy rate (bytes read + written per second).
double copy_bandwidth_gbs(int reps) {
  const size_t bytes = size_t(1) << 30;
  void* a = cuda::alloc(0, bytes);
  void* b = cuda::alloc(0, bytes);
  const auto [med, best] = time_ms([&] { ok(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, cuda::stream(0)), "copy"); }, 1, reps);
  (void)best;
  cuda::release(0, a);
  cuda::release(0, b);
  return 2.0 * bytes / (med * 1e-3) / 1e9;
}

const char* dname(DType t) { return t == DType::F16 ? "fp16" : t == DType::BF16 ? "bf16" : "fp32"; }

}  // namespace

int main(int argc, char** argv) {
  std::string json, filter;
  bool quick = false, check = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
    else if (!std::strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
    else if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--check")) check = true;
    else {
      std::fprintf(stderr, "usage: %s [--json FILE] [--quick] [--check] [--filter TEXT]\n", argv[0]);
      return 2;
    }
  }
  const cuda::Info info = cuda::info();
  if (info.devices.empty()) {
    std::fprintf(stderr, "no CUDA device: %s\n", info.error.empty() ? "none found" : info.error.c_str());
    return 3;
  }
  const auto& dev = info.devices[0];
  const int reps = quick ? 5 : 10;

  std::vector<Case> cases;
  const std::vector<int64_t> lengths = check   ? std::vector<int64_t>{67, 128}
                                       : quick ? std::vector<int64_t>{4096, 16384}
                                               : std::vector<int64_t>{1024, 4096, 16384};
  for (DType dt : {DType::F16, DType::BF16})
    for (int64_t D : {64, 128})
      for (int64_t N : lengths)
        for (bool causal : {false, true}) {
          const int64_t B = check ? 1 : 4, H = check ? 2 : 16;
          char name[128];
          std::snprintf(name, sizeof name, "attention %s B%lld H%lld N%lld D%lld%s", dname(dt), (long long)B,
                        (long long)H, (long long)N, (long long)D, causal ? " causal" : "");
          cases.push_back({name, B, H, H, N, N, D, causal, dt, false});
        }
  // Block-sparse at 10% density (128-token blocks) and dense at the same shape.
  for (DType dt : {DType::F16, DType::BF16})
    for (int64_t D : {64, 128})
      for (int64_t N : check ? std::vector<int64_t>{300} : quick ? std::vector<int64_t>{} : std::vector<int64_t>{16384, 32768})
        for (bool sparse : {false, true}) {
          const int64_t H = check ? 2 : 16, block = check ? 64 : 128;
          char kind[64] = "attention", name[128];
          if (sparse) std::snprintf(kind, sizeof kind, "sparse10%% block%lld", (long long)block);
          std::snprintf(name, sizeof name, "%s %s B1 H%lld N%lld D%lld", kind, dname(dt), (long long)H, (long long)N,
                        (long long)D);
          Case c{name, 1, H, H, N, N, D, false, dt, false};
          if (sparse) c.block = block, c.density = 0.1;
          cases.push_back(c);
        }
  // Quantized attention at hd128 beside the dense rows of the same shape above.
  for (DType dt : {DType::F16, DType::BF16})
    for (int64_t N : lengths)
      for (bool causal : {false, true})
        for (int bits : {8, 4}) {
          const int64_t B = check ? 1 : 4, H = check ? 2 : 16;
          char name[128];
          std::snprintf(name, sizeof name, "quant int%d %s B%lld H%lld N%lld D128%s", bits, dname(dt), (long long)B,
                        (long long)H, (long long)N, causal ? " causal" : "");
          Case c{name, B, H, H, N, N, 128, causal, dt, false};
          c.qk_bits = bits;
          cases.push_back(c);
          // pv int8 (the .u8.s8 P'.V') beside the INT8 fp16 rows.
          if (bits == 8 && dt == DType::F16) {
            std::snprintf(name, sizeof name, "quant int8 pv int8 %s B%lld H%lld N%lld D128%s", dname(dt), (long long)B,
                          (long long)H, (long long)N, causal ? " causal" : "");
            c.name = name, c.pv8 = true;
            cases.push_back(c);
          }
        }
  for (DType dt : {DType::F16, DType::BF16}) {
    const int64_t B = check ? 1 : 8, Hq = check ? 4 : 32, Hkv = check ? 2 : 8, Nk = check ? 300 : 32768;
    char name[128];
    std::snprintf(name, sizeof name, "decode %s B%lld Hq%lld Hkv%lld Nq1 Nk%lld D128", dname(dt), (long long)B,
                  (long long)Hq, (long long)Hkv, (long long)Nk);
    cases.push_back({name, B, Hq, Hkv, 1, Nk, 128, false, dt, true});
  }

  std::string rows;
  int failed = 0;
  double copy_gbs = 0;
  std::string copy_error;
  if (!check) {
    try {
      copy_gbs = copy_bandwidth_gbs(reps);
      std::printf("device copy bandwidth: %.0f GB/s\n", copy_gbs);
    } catch (const std::exception& e) {
      copy_error = e.what();
      std::printf("copy bandwidth: FAILED %s\n", e.what());
    }
  }
  auto add_row = [&](const std::string& name, const std::string& shape, const std::string& result, const std::string& error) {
    if (!rows.empty()) rows += ",\n";
    rows += "    {\"name\": \"" + json_escape(name) + "\", " + shape;
    rows += error.empty() ? ", " + result + "}" : ", \"error\": \"" + json_escape(error) + "\"}";
  };
  for (const Case& c : cases) {
    if (!filter.empty() && c.name.find(filter) == std::string::npos) continue;
    char shape[256];
    std::snprintf(shape, sizeof shape,
                  "\"op\": \"%s\", \"dtype\": \"%s\", \"B\": %lld, \"Hq\": %lld, \"Hkv\": %lld, \"Nq\": %lld, \"Nk\": %lld, "
                  "\"D\": %lld, \"causal\": %s, \"block\": %lld, \"density\": %.2f, \"qkBits\": %d, \"pv\": \"%s\"",
                  c.decode ? "decode" : c.block ? "sparse" : c.qk_bits ? "quant" : "attention", dname(c.dtype),
                  (long long)c.B, (long long)c.Hq, (long long)c.Hkv, (long long)c.Nq, (long long)c.Nk, (long long)c.D,
                  c.causal ? "true" : "false", (long long)c.block, c.density, c.qk_bits,
                  c.pv8 ? "int8" : c.qk_bits ? dname(c.dtype) : "");
    std::string result, error;
    try {
      const Timing t = run_attention(c, reps, check);
      const double gbs = attention_bytes(c) / (t.median_ms * 1e-3) / 1e9;
      char buf[512];
      // Block-sparse: the flops of the kept blocks only.
      std::snprintf(buf, sizeof buf,
                    "\"median_ms\": %.4f, \"min_ms\": %.4f, \"tflops\": %.2f, \"gbs\": %.1f, \"runs\": %d, \"kept\": %.4f",
                    t.median_ms, t.min_ms, attention_flops(c) * t.kept / (t.median_ms * 1e-3) / 1e12, gbs, reps, t.kept);
      result = buf;
      // Decode is bound by reading K and V: its rate as a fraction of the copy rate.
      if (c.decode && copy_gbs > 0) result += ", \"copyFraction\": " + std::to_string(gbs / copy_gbs);
    } catch (const std::exception& e) {
      error = e.what();
      cudaGetLastError();
      ++failed;
    }
    std::printf("%-48s %s\n", c.name.c_str(), error.empty() ? (check ? "ok" : result.c_str()) : ("FAILED " + error).c_str());
    std::fflush(stdout);
    if (!check) add_row(c.name, shape, result, error);
  }
  for (DType dt : {DType::F16, DType::F32}) {
    const std::string name = std::string("merge ") + dname(dt) + (check ? " B1 H3 N37 D80" : " B8 H32 N4096 D128");
    if (!filter.empty() && name.find(filter) == std::string::npos) continue;
    std::string result, error;
    try {
      if (check) run_merge(dt, 1, 3, 37, 80, reps, true);
      else result = run_merge(dt, 8, 32, 4096, 128, reps, false);
    } catch (const std::exception& e) {
      error = e.what();
      cudaGetLastError();
      ++failed;
    }
    std::printf("%-48s %s\n", name.c_str(), error.empty() ? (check ? "ok" : result.c_str()) : ("FAILED " + error).c_str());
    if (!check) add_row(name, std::string("\"op\": \"merge\", \"dtype\": \"") + dname(dt) + "\"", result, error);
  }

  // XAttention: scoring at strides 8 and 16, and the selection of stride-8 scores.
  for (DType dt : {DType::F16, DType::BF16})
    for (int64_t D : {64, 128})
      for (int64_t S : {8, 16, 0}) {  // 0: the selection row
        const int64_t H = check ? 2 : 16, N = check ? 300 : 32768;
        char name[128];
        std::snprintf(name, sizeof name, "xattention %s %s B1 H%lld N%lld D%lld", S ? "scores" : "select",
                      dname(dt), (long long)H, (long long)N, (long long)D);
        std::string nm = name;
        if (S) nm += " stride" + std::to_string(S);
        if (!filter.empty() && nm.find(filter) == std::string::npos) continue;
        std::string result, error;
        double fraction = 0;
        try {
          result = run_xattention(dt, H, N, D, S ? S : 8, S == 0, reps, check, &fraction);
        } catch (const std::exception& e) {
          error = e.what();
          cudaGetLastError();
          ++failed;
        }
        std::printf("%-48s %s\n", nm.c_str(), error.empty() ? (check ? "ok" : result.c_str()) : ("FAILED " + error).c_str());
        std::fflush(stdout);
        char shape[256];
        std::snprintf(shape, sizeof shape,
                      "\"op\": \"%s\", \"dtype\": \"%s\", \"B\": 1, \"Hq\": %lld, \"Hkv\": %lld, \"Nq\": %lld, "
                      "\"Nk\": %lld, \"D\": %lld, \"causal\": false, \"stride\": %lld",
                      S ? "xattentionScores" : "xattentionMask", dname(dt), (long long)H, (long long)H, (long long)N,
                      (long long)N, (long long)D, (long long)(S ? S : 8));
        if (!check) add_row(nm, shape, result, error);
      }

  // The state-space rows, memory-bound: their rate as a fraction of the copy rate.
  for (int which = 0; which < 2; ++which) {
    const std::string name = which == 0 ? (check ? "scan fp32 b1 d8 N4 L67" : "scan fp32 b8 d1536 N16 L2048")
                                         : (check ? "update fp32 b2 d8 N4" : "update fp32 b64 d1536 N16");
    if (!filter.empty() && name.find(filter) == std::string::npos) continue;
    std::string result, error;
    double gbs = 0;
    try {
      if (which == 0) result = check ? run_scan(1, 8, 4, 67, reps, true, &gbs) : run_scan(8, 1536, 16, 2048, reps, false, &gbs);
      else result = check ? run_update(2, 8, 4, reps, true, &gbs) : run_update(64, 1536, 16, reps, false, &gbs);
      if (!check && copy_gbs > 0) result += ", \"copyFraction\": " + std::to_string(gbs / copy_gbs);
    } catch (const std::exception& e) {
      error = e.what();
      cudaGetLastError();
      ++failed;
    }
    std::printf("%-48s %s\n", name.c_str(), error.empty() ? (check ? "ok" : result.c_str()) : ("FAILED " + error).c_str());
    std::fflush(stdout);
    if (!check) add_row(name, std::string("\"op\": \"") + (which == 0 ? "scan" : "update") + "\", \"dtype\": \"fp32\"", result, error);
  }

  if (!json.empty() && !check) {
    FILE* f = std::fopen(json.c_str(), "w");
    if (!f) {
      std::fprintf(stderr, "cannot write %s\n", json.c_str());
      return 1;
    }
    std::fprintf(f,
                 "{\n  \"device\": {\"name\": \"%s\", \"computeCapability\": \"%d.%d\", \"multiprocessors\": %d, "
                 "\"totalMemory\": %zu},\n  \"runtimeVersion\": %d, \"driverVersion\": %d,\n  \"copyBandwidthGBs\": %.1f,%s\n"
                 "  \"cases\": [\n%s\n  ]\n}\n",
                 json_escape(dev.name).c_str(), dev.major, dev.minor, dev.multiprocessors, dev.total_memory,
                 info.runtime_version, info.driver_version, copy_gbs,
                 copy_error.empty() ? "" : (" \"copyError\": \"" + json_escape(copy_error) + "\",").c_str(), rows.c_str());
    std::fclose(f);
  }
  // The ops only enqueue: wait for the last of them, so a fault is reported here.
  try {
    cuda::wait(0);
  } catch (const std::exception& e) {
    std::printf("the device's work: FAILED %s\n", e.what());
    ++failed;
  }
  std::printf("%d case(s) failed\n", failed);
  return failed ? 1 : 0;
}
