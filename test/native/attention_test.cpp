// CUDA attention kernels (emulated, or on the device in the device build) against
// the fp64 reference and the CPU backend, over every option: dtypes, head dims
// (including padded ones), causal, window, softcap, GQA ratios, Nq != Nk with
// fully masked rows, LSE, layouts and unaligned views, and split-KV decode.
// Block-sparse calls (BlockMask) against the fp64 reference with the mask expanded:
// densities 0 to 1, empty rows, ragged last blocks, causal / window on top, mask
// heads Hq / Hkv / 1, head modes (also against their explicit lists, bit for bit),
// and every block listed against dense attention, bit for bit.
// Tolerances as in the anchors: fp32 <= 1e-5 of the output scale; fp16/bf16
// <= 2x the error of a naive computation in that dtype + one rounding step.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../../csrc/core/half.h"
#include "../../csrc/cpu/attention.h"
#include "../../csrc/cuda/head_dims.h"
#include "../../csrc/ops/attention.h"
#include "cuda_runner.h"
#include "harness.h"
#include "reference.h"

namespace subq::test {

namespace {

struct AttnCase {
  DType dt = DType::F16;
  int64_t B = 1, Hq = 2, Hkv = 2, Nq = 64, Nk = 64, D = 64, Dv = 64;
  bool causal = false;
  int64_t left = -1, right = -1;
  double softcap = 0, scale = NAN;  // NaN: the default 1/sqrt(D)
  bool lse = true;
  Layout layout = Layout::BHND;
  bool misaligned = false;  // views start one element into their buffers
  int splits = 0, pack = -1;
  // Block-sparse when block > 0: each key block listed with probability `density`,
  // every third list empty when `empty`; mask heads Hq, Hkv or 1 (hm 0, 1, 2); with
  // `modes`, query heads cycle through Dense, Streaming and Masked.
  int64_t block = 0;
  double density = 1;
  int hm = 0;
  bool empty = false, modes = false;
  int64_t sink = 1, local = 2;

  std::string name() const {
    std::string s = std::string("attention ") + dtype_name(dt) + " B" + std::to_string(B) + " H" + std::to_string(Hq) +
                    "/" + std::to_string(Hkv) + " Nq" + std::to_string(Nq) + " Nk" + std::to_string(Nk) + " D" +
                    std::to_string(D);
    if (Dv != D) s += " Dv" + std::to_string(Dv);
    if (causal) s += " causal";
    if (left >= 0 || right >= 0) s += " window(" + std::to_string(left) + "," + std::to_string(right) + ")";
    if (softcap > 0) s += " softcap";
    if (!std::isnan(scale)) s += " scale=" + std::to_string(scale).substr(0, 5);
    if (lse) s += " lse";
    if (layout == Layout::BNHD) s += " bnhd";
    if (misaligned) s += " misaligned";
    if (splits) s += " splits" + std::to_string(splits);
    if (pack >= 0) s += pack ? " packed" : " unpacked";
    if (block) {
      s += " sparse" + std::to_string(block) + " density" + std::to_string(int(density * 100)) + "% Hm" +
           std::to_string(hm == 0 ? Hq : hm == 1 ? Hkv : 1);
      if (empty) s += " empty-rows";
      if (modes) s += " modes(sink" + std::to_string(sink) + ",local" + std::to_string(local) + ")";
    }
    return s;
  }
};

double round_to(DType dt, double x) {
  if (dt == DType::F16) return f16_to_f32(f32_to_f16(float(x)));
  if (dt == DType::BF16) return bf16_to_f32(f32_to_bf16(float(x)));
  return float(x);
}

double eps_of(DType dt) { return dt == DType::F16 ? 0x1p-10 : dt == DType::BF16 ? 0x1p-7 : 0x1p-23; }

// A tensor in the caller's layout, backed by a buffer with a guard tail.
struct Buffer {
  DType dt;
  std::vector<unsigned char> bytes;
  TensorView view;
  int64_t lead = 0, n = 0;
  static constexpr int64_t kGuard = 64;
  static constexpr unsigned char kGuardByte = 0x5a;

  Buffer(DType t, int ndim, const int64_t* shape, bool misaligned, bool nan_fill) : dt(t) {
    n = 1;
    for (int i = 0; i < ndim; ++i) n *= shape[i];
    lead = misaligned ? 1 : 0;
    const size_t es = dtype_size(t);
    bytes.assign((lead + n + kGuard) * es + 64, kGuardByte);
    // 64-byte aligned start, then `lead` elements in.
    const size_t base = (64 - reinterpret_cast<uintptr_t>(bytes.data()) % 64) % 64;
    unsigned char* data = bytes.data() + base + lead * es;
    view.data = data;
    view.dtype = t;
    view.ndim = ndim;
    int64_t st = 1;
    for (int i = ndim - 1; i >= 0; --i) view.shape[i] = shape[i], view.stride[i] = st, st *= shape[i];
    view.capacity = n;
    if (nan_fill)
      for (int64_t i = 0; i < n; ++i) set(i, std::numeric_limits<double>::quiet_NaN());
  }
  void set(int64_t i, double x) {
    if (dt == DType::F32) reinterpret_cast<float*>(view.data)[i] = float(x);
    else if (dt == DType::F16) reinterpret_cast<uint16_t*>(view.data)[i] = f32_to_f16(float(x));
    else reinterpret_cast<uint16_t*>(view.data)[i] = f32_to_bf16(float(x));
  }
  double get(int64_t i) const {
    if (dt == DType::F32) return reinterpret_cast<const float*>(view.data)[i];
    const uint16_t h = reinterpret_cast<const uint16_t*>(view.data)[i];
    return dt == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
  }
  bool guard_intact() const {
    const unsigned char* tail = static_cast<const unsigned char*>(view.data) + n * dtype_size(dt);
    for (int64_t i = 0; i < kGuard * int64_t(dtype_size(dt)); ++i)
      if (tail[i] != kGuardByte) return false;
    return true;
  }
};

// Element offset of [b, h, n, d] in a dense tensor of the given layout.
int64_t offset(Layout l, int64_t H, int64_t N, int64_t D, int64_t b, int64_t h, int64_t n, int64_t d) {
  return l == Layout::BHND ? ((b * H + h) * N + n) * D + d : ((b * N + n) * H + h) * D + d;
}

void make_shape(Layout l, int64_t B, int64_t H, int64_t N, int64_t D, int64_t* s) {
  s[0] = B, s[1] = l == Layout::BHND ? H : N, s[2] = l == Layout::BHND ? N : H, s[3] = D;
}

// A block mask for the case, and its views as the kernels read them: the index
// rows padded to a wider stride (poisoned padding, so the counts must be honoured).
struct SparseMask {
  RefMask ref;
  std::vector<int32_t> idx;
  std::vector<int32_t> cnt;
  std::vector<uint8_t> modes;

  // Writes ref's rows into the kernels' views and points p.mask at them.
  void bind(const AttnCase& c, AttentionParams& p) {
    const int64_t nqb = (c.Nq + ref.block - 1) / ref.block, nkb = (c.Nk + ref.block - 1) / ref.block;
    const int64_t rows = c.B * ref.Hm * nqb, stride = ref.max_k + 3;
    idx.assign(rows * stride, 0x7fffffff);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t n = 0; n < ref.max_k; ++n) idx[r * stride + n] = n < ref.counts[r] ? ref.indices[r * ref.max_k + n] : -5;
    cnt = ref.counts;
    modes = ref.modes;
    BlockMask& m = p.mask;
    m = BlockMask{};
    m.block = ref.block, m.nqb = nqb, m.nkb = nkb, m.Hm = ref.Hm;
    m.sink_blocks = ref.sink, m.local_blocks = ref.local;
    // Row-major, rows of the last dim `row` elements apart.
    auto view = [](TensorView& t, void* data, DType dt, std::initializer_list<int64_t> shape, int64_t row) {
      t = TensorView{};
      t.data = data, t.dtype = dt, t.ndim = int(shape.size());
      int i = 0;
      for (int64_t d : shape) t.shape[i++] = d;
      int64_t st = 1;
      for (i = t.ndim - 1; i >= 0; --i) t.stride[i] = st, st *= i == t.ndim - 1 ? row : t.shape[i];
      t.capacity = st;
    };
    view(m.indices, idx.data(), DType::I32, {c.B, ref.Hm, nqb, ref.max_k}, stride);
    view(m.counts, cnt.data(), DType::I32, {c.B, ref.Hm, nqb}, nqb);
    if (!modes.empty()) view(m.head_modes, modes.data(), DType::U8, {c.Hq}, c.Hq);
  }
};

SparseMask make_mask(const AttnCase& c, std::mt19937& rng) {
  SparseMask s;
  RefMask& m = s.ref;
  m.block = c.block;
  m.Hm = c.hm == 0 ? c.Hq : c.hm == 1 ? c.Hkv : 1;
  const int64_t nqb = (c.Nq + m.block - 1) / m.block, nkb = (c.Nk + m.block - 1) / m.block;
  m.max_k = nkb;
  m.indices.assign(c.B * m.Hm * nqb * nkb, 0);
  m.counts.assign(c.B * m.Hm * nqb, 0);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int64_t r = 0; r < c.B * m.Hm * nqb; ++r) {
    if (c.empty && r % 3 == 1) continue;
    for (int64_t kb = 0; kb < nkb; ++kb)
      if (c.density >= 1 || u(rng) < c.density) m.indices[r * nkb + m.counts[r]++] = int32_t(kb);
  }
  if (c.modes)
    for (int64_t h = 0; h < c.Hq; ++h) m.modes.push_back(uint8_t(h % 3));
  m.sink = c.sink, m.local = c.local;
  return s;
}

// The same mask with every head Masked and one mask head per query head: each
// row lists exactly the blocks the head modes give (ref_key_blocks).
SparseMask explicit_lists(const AttnCase& c, const RefShape& rs) {
  SparseMask s;
  RefMask& m = s.ref;
  m.block = c.block, m.Hm = c.Hq;
  const int64_t nqb = (c.Nq + m.block - 1) / m.block, nkb = (c.Nk + m.block - 1) / m.block;
  m.max_k = nkb;
  m.indices.assign(c.B * m.Hm * nqb * nkb, 0);
  m.counts.assign(c.B * m.Hm * nqb, 0);
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t h = 0; h < c.Hq; ++h)
      for (int64_t qb = 0; qb < nqb; ++qb) {
        const std::vector<bool> on = ref_key_blocks(rs, b, h, qb);
        const int64_t r = (b * m.Hm + h) * nqb + qb;
        for (int64_t kb = 0; kb < nkb; ++kb)
          if (on[kb]) m.indices[r * nkb + m.counts[r]++] = int32_t(kb);
      }
  return s;
}

void run_case(const AttnCase& c) {
  std::mt19937 rng(uint32_t(c.Nq * 131 + c.Nk * 7 + c.D + c.Hq * 3 + int(c.dt)));
  std::uniform_real_distribution<double> u(-2.0, 2.0);
  RefShape rs{c.B, c.Hq, c.Hkv, c.Nq, c.Nk, c.D, c.Dv, !std::isnan(c.scale) ? c.scale : 1.0 / std::sqrt(double(c.D)), c.softcap,
              c.left, c.causal ? 0 : c.right};
  SparseMask mask;
  if (c.block) {
    mask = make_mask(c, rng);
    rs.mask = &mask.ref;
  }
  auto fill = [&](int64_t H, int64_t N, int64_t D, Buffer& buf, std::vector<double>& dense) {
    dense.resize(c.B * H * N * D);
    for (int64_t b = 0; b < c.B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t n = 0; n < N; ++n)
          for (int64_t d = 0; d < D; ++d) {
            const double x = round_to(c.dt, u(rng));
            dense[((b * H + h) * N + n) * D + d] = x;
            buf.set(offset(c.layout, H, N, D, b, h, n, d), x);
          }
  };
  int64_t sq[4], sk[4], sv[4], so[4], sl[3] = {c.B, c.Hq, c.Nq};
  make_shape(c.layout, c.B, c.Hq, c.Nq, c.D, sq);
  make_shape(c.layout, c.B, c.Hkv, c.Nk, c.D, sk);
  make_shape(c.layout, c.B, c.Hkv, c.Nk, c.Dv, sv);
  make_shape(c.layout, c.B, c.Hq, c.Nq, c.Dv, so);
  Buffer q(c.dt, 4, sq, c.misaligned, false), k(c.dt, 4, sk, c.misaligned, false), v(c.dt, 4, sv, c.misaligned, false);
  std::vector<double> qd, kd, vd;
  fill(c.Hq, c.Nq, c.D, q, qd);
  fill(c.Hkv, c.Nk, c.D, k, kd);
  fill(c.Hkv, c.Nk, c.Dv, v, vd);

  AttentionOptions opt;
  opt.has_scale = !std::isnan(c.scale);
  opt.scale = c.scale;
  opt.softcap = c.softcap;
  opt.causal = c.causal;
  opt.window_left = c.left;
  opt.window_right = c.right;
  opt.return_lse = c.lse;
  opt.layout = c.layout;
  AttentionParams base = attention_prepare(q.view, k.view, v.view, opt);
  if (c.block) mask.bind(c, base);

  std::vector<double> ref_o, ref_l, naive_o, naive_l;
  attention_reference(rs, qd, kd, vd, ref_o, ref_l);
  double scale_o = 0;
  for (double x : ref_o) scale_o = std::max(scale_o, std::abs(x));
  double tol;
  if (c.dt == DType::F32) {
    tol = 1e-5 * std::max(1.0, scale_o);
  } else {
    auto r = [&](double x) { return round_to(c.dt, x); };
    attention_naive(rs, qd, kd, vd, naive_o, naive_l, r, r, r);
    double naive_err = 0;
    for (size_t i = 0; i < ref_o.size(); ++i) naive_err = std::max(naive_err, std::abs(naive_o[i] - ref_o[i]));
    tol = 2 * naive_err + eps_of(c.dt) * std::max(1.0, scale_o);
  }

  struct Result {
    std::vector<double> o, l;
  };
  auto run = [&](bool on_cuda, const AttentionParams& p_in) {
    Buffer out(c.dt, 4, so, c.misaligned, true), lse(DType::F32, 3, sl, false, true);
    AttentionParams p = p_in;
    attention_bind_outputs(p, out.view, c.lse ? &lse.view : nullptr);
    if (on_cuda) {
      cuda::AttentionLaunchOptions lo;
      lo.splits = c.splits;
      lo.pack_gqa = c.pack;
      run_cuda_attention(p, lo);
    } else {
      cpu::attention(p);
    }
    const char* who = on_cuda ? "cuda" : "cpu";
    check(out.guard_intact(), std::string(who) + ": write past the end of the output");
    check(lse.guard_intact(), std::string(who) + ": write past the end of the lse");
    Result res;
    res.o.resize(ref_o.size());
    for (int64_t b = 0; b < c.B; ++b)
      for (int64_t h = 0; h < c.Hq; ++h)
        for (int64_t n = 0; n < c.Nq; ++n)
          for (int64_t d = 0; d < c.Dv; ++d)
            res.o[((b * c.Hq + h) * c.Nq + n) * c.Dv + d] = out.get(offset(c.layout, c.Hq, c.Nq, c.Dv, b, h, n, d));
    if (c.lse) res.l.assign(static_cast<float*>(lse.view.data), static_cast<float*>(lse.view.data) + ref_l.size());
    return res;
  };
  auto compare = [&](const Result& r, const char* who) {
    double err = 0;
    for (size_t i = 0; i < ref_o.size(); ++i) {
      const double row_lse = ref_l[i / c.Dv];
      if (row_lse == -std::numeric_limits<double>::infinity())
        check(r.o[i] == 0, std::string(who) + ": fully masked row gives " + std::to_string(r.o[i]) + ", not 0");
      const double e = std::abs(r.o[i] - ref_o[i]);
      check(e == e, std::string(who) + ": NaN in the output at " + std::to_string(i));
      err = std::max(err, e);
    }
    check(err <= tol, std::string(who) + ": max error " + std::to_string(err) + " > tolerance " + std::to_string(tol));
    if (!c.lse) return;
    for (size_t i = 0; i < ref_l.size(); ++i) {
      if (ref_l[i] == -std::numeric_limits<double>::infinity()) {
        check(r.l[i] == -std::numeric_limits<float>::infinity(), std::string(who) + ": lse of a fully masked row is " +
                                                                     std::to_string(r.l[i]) + ", not -inf");
        continue;
      }
      const double e = std::abs(r.l[i] - ref_l[i]);
      check(e <= 1e-4 * std::max(1.0, std::abs(ref_l[i])),
            std::string(who) + ": lse error " + std::to_string(e) + " at row " + std::to_string(i));
    }
  };
  const Result gpu = run(true, base);
  compare(gpu, "cuda");
  auto same_bits = [&](const Result& a, const Result& b, const std::string& what) {
    check(std::memcmp(a.o.data(), b.o.data(), a.o.size() * sizeof(double)) == 0, what + ": outputs differ");
    check(a.l == b.l, what + ": lse differs");
  };
  if (c.block) {
    // The CPU backend has no block-sparse path yet: the reference alone judges.
    if (c.modes) {
      SparseMask lists = explicit_lists(c, rs);
      AttentionParams p = base;
      lists.bind(c, p);
      same_bits(gpu, run(true, p), "head modes against their explicit lists");
    }
    if (c.density >= 1 && !c.modes && !c.empty) {
      AttentionParams p = base;
      p.mask = BlockMask{};
      // Dense calls of at most 16 rows take the decode kernel (other arithmetic).
      if (c.dt == DType::F32 || c.Nq > 16) same_bits(gpu, run(true, p), "every block listed against dense attention");
      else compare(run(true, p), "dense");
    }
    return;
  }
  const Result cpu = run(false, base);
  compare(cpu, "cpu");
  double diff = 0;
  for (size_t i = 0; i < gpu.o.size(); ++i) diff = std::max(diff, std::abs(gpu.o[i] - cpu.o[i]));
  check(diff <= 2 * tol, "cuda and cpu differ by " + std::to_string(diff));
}

struct Shape {
  int64_t B, Hq, Hkv, Nq, Nk;
};

std::vector<AttnCase> cases() {
  std::vector<AttnCase> out;
  const DType dts[] = {DType::F16, DType::BF16, DType::F32};
  // Every kernel's head dim, then 80, 40 and 20, which run padded; 20 also takes the
  // element-wise (unaligned) load path.
  std::vector<int64_t> dims(std::begin(cuda::HeadDims::dims), std::end(cuda::HeadDims::dims));
  dims.insert(dims.end(), {80, 40, 20});
  const Shape shapes[] = {{1, 2, 2, 113, 113}, {2, 4, 2, 64, 200}, {1, 3, 1, 200, 64}, {1, 2, 1, 17, 256},
                          {1, 8, 2, 128, 128}};
  struct Mask {
    bool causal;
    int64_t left, right;
  };
  const Mask masks[] = {{false, -1, -1}, {true, -1, -1}, {false, 17, 5}, {true, 33, -1}};
  int idx = 0;
  // Every dtype x head dim x mask x softcap, the shapes and GQA ratios in rotation.
  for (DType dt : dts)
    for (int64_t D : dims)
      for (const Mask& m : masks)
        for (double cap : {0.0, 1.5}) {
          const Shape& s = shapes[idx++ % 5];
          AttnCase c;
          c.dt = dt, c.B = s.B, c.Hq = s.Hq, c.Hkv = s.Hkv, c.Nq = s.Nq, c.Nk = s.Nk, c.D = c.Dv = D;
          c.causal = m.causal, c.left = m.left, c.right = m.right, c.softcap = cap;
          c.lse = idx % 3 != 0;
          out.push_back(c);
        }
  // Split-KV decode: Nq 1..16 against longer keys, forced and automatic splits,
  // with and without packing the query heads of a kv head.
  const int64_t ddims[] = {64, 128, 80, 256, 32, 96};
  const int splits[][2] = {{0, -1}, {1, 0}, {3, 1}, {7, 0}, {4, 1}};
  for (DType dt : dts)
    for (int64_t nq : {1, 5, 16})
      for (const auto& sp : splits) {
        const Mask& m = masks[idx % 4];
        AttnCase c;
        c.dt = dt, c.B = 1 + idx % 2, c.Hq = idx % 3 == 0 ? 4 : 8, c.Hkv = idx % 3 == 0 ? 4 : idx % 3 == 1 ? 2 : 1;
        c.Nq = nq, c.Nk = idx % 2 ? 256 : 190, c.D = c.Dv = ddims[idx % 6];
        c.causal = m.causal, c.left = m.left, c.right = m.right;
        c.splits = sp[0], c.pack = sp[1];
        ++idx;
        out.push_back(c);
      }
  // Layouts, unaligned views, Dv != D, custom scale.
  for (DType dt : dts) {
    AttnCase c;
    c.dt = dt, c.Hq = 4, c.Hkv = 2, c.Nq = 77, c.Nk = 93, c.layout = Layout::BNHD;
    out.push_back(c);
    c.misaligned = true, c.causal = true;
    out.push_back(c);
    c = AttnCase{};
    c.dt = dt, c.D = 64, c.Dv = 32, c.Nq = 50, c.Nk = 70, c.scale = 0.3;
    out.push_back(c);
    c.D = 40, c.Dv = 96, c.left = 9, c.right = 9, c.softcap = 2.5;
    out.push_back(c);
    // A negative or zero scale: kernels that fold the scale into the exponent after the
    // max (a positive scale only) must take their general path.
    for (double sc : {-0.3, 0.0})
      for (bool causal : {false, true}) {
        c = AttnCase{};
        c.dt = dt, c.Hq = 2, c.Hkv = 1, c.Nq = 70, c.Nk = 200, c.D = c.Dv = 64, c.scale = sc, c.causal = causal, c.lse = true;
        out.push_back(c);
      }
  }
  return out;
}

// Block-sparse cases: both block sizes x densities 0, 0.3, 1 x dtypes, with the
// shapes (ragged blocks, Nq != Nk, a single query row), masks, head dims and mask
// head counts in rotation; then head modes.
std::vector<AttnCase> sparse_cases() {
  std::vector<AttnCase> out;
  const DType dts[] = {DType::F16, DType::BF16, DType::F32};
  struct S {
    int64_t Hq, Hkv, Nq, Nk;
  };
  const S shapes[] = {{2, 2, 113, 113}, {4, 2, 130, 200}, {4, 1, 200, 130}, {2, 1, 1, 260}, {4, 2, 256, 256}, {2, 2, 70, 300}};
  struct M {
    bool causal;
    int64_t left, right;
  };
  const M masks[] = {{false, -1, -1}, {true, -1, -1}, {false, 40, 3}, {true, 100, -1}};
  const int64_t dims[] = {64, 128, 40, 256, 96};
  int idx = 0;
  for (DType dt : dts)
    for (int64_t block : {64, 128})
      for (double density : {0.0, 0.3, 1.0})
        for (int rep = 0; rep < (density == 0.3 ? 3 : 1); ++rep) {
          const S& s = shapes[idx % 6];
          const M& m = masks[(idx / 2) % 4];
          AttnCase c;
          c.dt = dt, c.B = 1 + idx % 2, c.Hq = s.Hq, c.Hkv = s.Hkv, c.Nq = s.Nq, c.Nk = s.Nk;
          c.D = c.Dv = dims[idx % 5];
          c.causal = m.causal, c.left = m.left, c.right = m.right;
          // Every block listed against dense needs the unmasked rule once per dtype.
          if (density == 1.0 && block == 64) c.causal = false, c.left = c.right = -1;
          c.block = block, c.density = density, c.hm = idx % 3, c.empty = density == 0.3 && rep == 1;
          c.lse = idx % 4 != 3;
          ++idx;
          out.push_back(c);
        }
  // Head modes (Dense, Streaming, Masked heads side by side), with and without the
  // causal rule, sinks and local windows of several widths.
  for (DType dt : dts)
    for (int v = 0; v < 3; ++v) {
      AttnCase c;
      c.dt = dt, c.Hq = 6, c.Hkv = 2, c.Nq = v == 2 ? 97 : 300, c.Nk = 300, c.D = c.Dv = 64;
      c.block = v == 1 ? 128 : 64, c.density = 0.3, c.hm = v, c.modes = true;
      c.causal = v != 1;
      c.sink = v, c.local = v == 0 ? 1 : 3;
      out.push_back(c);
    }
  return out;
}

}  // namespace

// The launch plan of fp16 views of shapes qs and ks (never dereferenced).
cuda::AttentionPlan plan_of(const int64_t (&qs)[4], const int64_t (&ks)[4], const cuda::AttentionLaunchOptions& opt) {
  TensorView q, k, v;
  for (TensorView* t : {&q, &k, &v}) {
    t->dtype = DType::F16, t->ndim = 4;
    t->data = reinterpret_cast<void*>(uintptr_t(256));
  }
  for (int i = 0; i < 4; ++i) q.shape[i] = qs[i], k.shape[i] = v.shape[i] = ks[i];
  for (TensorView* t : {&q, &k, &v}) {
    int64_t st = 1;
    for (int i = 3; i >= 0; --i) t->stride[i] = st, st *= t->shape[i];
    t->capacity = st;
  }
  return cuda::attention_plan(attention_prepare(q, k, v, AttentionOptions{}), opt);
}

// The launch plan of the decode benchmark's shape (bench/native/attention_bench.cu:
// Nq 1, Nk 32768, B 8, Hq 32, Hkv 8): packed GQA rows, the decode kernel, split keys.
void decode_plan() {
  cuda::AttentionLaunchOptions opt;
  opt.multiprocessors = 132;
  const cuda::AttentionPlan plan = plan_of({8, 32, 1, 128}, {8, 8, 32768, 128}, opt);
  check(plan.group == 4, "query heads not packed: group " + std::to_string(plan.group));
  check(plan.decode, "the decode kernel was not chosen");
  check(plan.splits > 1 && plan.splits <= 64, "splits " + std::to_string(plan.splits));
  check(plan.workspace_bytes == int64_t(plan.splits) * 8 * 32 * (128 + 1) * 4, "workspace size");
}

// The split-KV combine runs one block per (batch, head, query) row in a 1-D grid
// (< 2^31 blocks): more rows than that keep the keys unsplit.
void combine_grid_limit() {
  cuda::AttentionLaunchOptions opt;
  opt.multiprocessors = 132;
  opt.splits = 4;
  const cuda::AttentionPlan small = plan_of({1, 65535, 16, 64}, {1, 65535, 32768, 64}, opt);
  check(small.splits == 4, "a forced split within the limit: splits " + std::to_string(small.splits));
  const cuda::AttentionPlan big = plan_of({4096, 65535, 16, 64}, {4096, 65535, 32768, 64}, opt);  // 4.3e9 rows
  check(big.splits == 1 && big.workspace_bytes == 0, "rows past 2^31 were split: splits " + std::to_string(big.splits));
}

void register_attention_tests() {
  for (const AttnCase& c : cases()) add(c.name(), [c] { run_case(c); });
  for (const AttnCase& c : sparse_cases()) add(c.name(), [c] { run_case(c); });
  add("attention plan: decode target shape", decode_plan);
  add("attention plan: the combine grid stays under 2^31 blocks", combine_grid_limit);
}

}  // namespace subq::test
