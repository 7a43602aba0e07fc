// CUDA state-space kernels (emulated, or on the device in the device build) against
// the CPU backend, which test/ssm-*.test.ts holds to the fp64 reference: every dtype,
// constant / varying B and C, groups, N from 1 to 256, D, z, bias, softplus, initial
// and last states, packed sequences, state slots with padding rows, conv widths 2..8.
// fp32 within 1e-5 of the output scale; fp16 / bf16 within two rounding steps.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "../../csrc/core/error.h"
#include "../../csrc/core/half.h"
#include "../../csrc/cpu/ssm.h"
#include "harness.h"
#include "ssm_runner.h"

namespace subq::test {

namespace {

// Host buffer of n elements of dtype dt, filled from uniform [lo, hi).
struct Buffer {
  DType dt;
  std::vector<uint8_t> bytes;
  Buffer(DType t, int64_t n, std::mt19937& rng, float lo, float hi) : dt(t), bytes(size_t(n) * dtype_size(t)) {
    std::uniform_real_distribution<float> u(lo, hi);
    for (int64_t i = 0; i < n; ++i) set(i, u(rng));
  }
  void set(int64_t i, float v) {
    if (dt == DType::F32) reinterpret_cast<float*>(bytes.data())[i] = v;
    else reinterpret_cast<uint16_t*>(bytes.data())[i] = dt == DType::F16 ? f32_to_f16(v) : f32_to_bf16(v);
  }
  float get(int64_t i) const {
    if (dt == DType::F32) return reinterpret_cast<const float*>(bytes.data())[i];
    const uint16_t h = reinterpret_cast<const uint16_t*>(bytes.data())[i];
    return dt == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
  }
  int64_t size() const { return int64_t(bytes.size() / dtype_size(dt)); }
  TensorView view(std::vector<int64_t> shape) {
    TensorView t;
    t.data = bytes.data();
    t.dtype = dt;
    t.ndim = int(shape.size());
    int64_t s = 1;
    for (int i = t.ndim - 1; i >= 0; --i) t.shape[i] = shape[size_t(i)], t.stride[i] = s, s *= shape[size_t(i)];
    t.capacity = s;
    return t;
  }
};

void compare(const Buffer& got, const Buffer& want, const std::string& what) {
  double scale = 0, err = 0;
  for (int64_t i = 0; i < want.size(); ++i) {
    scale = std::max(scale, double(std::fabs(want.get(i))));
    const double d = std::fabs(double(got.get(i)) - want.get(i));
    err = std::isnan(d) ? INFINITY : std::max(err, d);
  }
  const double ulp = want.dt == DType::F32 ? 1e-5 : want.dt == DType::F16 ? 2.0 / 1024 : 2.0 / 128;
  check(err <= ulp * std::max(scale, 1.0), what + ": max error " + std::to_string(err) + " at scale " + std::to_string(scale));
}

struct ScanCase {
  DType dt = DType::F32;
  int64_t b = 1, d = 8, L = 64, N = 16, G = 1;
  bool Bv = true, Cv = true, D = true, z = true, bias = true, softplus = true, init = true;
  std::vector<int32_t> cu;
  std::string name() const {
    std::string s = std::string("ssm scan ") + dtype_name(dt) + " b" + std::to_string(b) + " d" + std::to_string(d) +
                    " L" + std::to_string(L) + " N" + std::to_string(N) + " G" + std::to_string(G) + (Bv ? " Bvar" : " Bconst") +
                    (Cv ? " Cvar" : " Cconst");
    if (D) s += " D";
    if (z) s += " z";
    if (bias) s += " bias";
    if (softplus) s += " softplus";
    if (init) s += " init";
    if (!cu.empty()) s += " varlen" + std::to_string(cu.size() - 1);
    return s;
  }
};

void run_scan(const ScanCase& c) {
  std::mt19937 rng(uint32_t(c.b * 1000 + c.d * 31 + c.L + c.N));
  const int64_t nseq = c.cu.empty() ? c.b : int64_t(c.cu.size()) - 1;
  Buffer u(c.dt, c.b * c.d * c.L, rng, -1, 1), delta(c.dt, c.b * c.d * c.L, rng, 0, 0.5f), A(DType::F32, c.d * c.N, rng, -0.6f, -0.1f);
  Buffer B(c.dt, c.Bv ? c.b * c.G * c.N * c.L : c.d * c.N, rng, -1, 1), C(c.dt, c.Cv ? c.b * c.G * c.N * c.L : c.d * c.N, rng, -1, 1);
  Buffer D(DType::F32, c.d, rng, -1, 1), z(c.dt, c.b * c.d * c.L, rng, -2, 2), bias(DType::F32, c.d, rng, 0, 0.5f);
  Buffer init(DType::F32, nseq * c.d * c.N, rng, -1, 1);
  std::vector<int32_t> cu = c.cu;
  SelectiveScanInputs in;
  in.u = u.view({c.b, c.d, c.L});
  in.delta = delta.view({c.b, c.d, c.L});
  in.A = A.view({c.d, c.N});
  in.B = c.Bv ? B.view({c.b, c.G, c.N, c.L}) : B.view({c.d, c.N});
  in.C = c.Cv ? C.view({c.b, c.G, c.N, c.L}) : C.view({c.d, c.N});
  TensorView Dv = D.view({c.d}), zv = z.view({c.b, c.d, c.L}), bv = bias.view({c.d}), iv = init.view({nseq, c.d, c.N});
  TensorView cv;
  if (!cu.empty()) {
    cv.data = cu.data(), cv.dtype = DType::I32, cv.ndim = 1, cv.shape[0] = int64_t(cu.size()), cv.stride[0] = 1;
    cv.capacity = int64_t(cu.size());
    in.cu_seqlens = &cv;
  }
  if (c.D) in.D = &Dv;
  if (c.z) in.z = &zv;
  if (c.bias) in.delta_bias = &bv;
  if (c.init) in.initial_state = &iv;
  in.softplus = c.softplus;
  SelectiveScanParams p = selective_scan_prepare(in);
  Buffer o_cpu(c.dt, c.b * c.d * c.L, rng, 0, 0), o_gpu(c.dt, c.b * c.d * c.L, rng, 0, 0);
  Buffer l_cpu(DType::F32, nseq * c.d * c.N, rng, 0, 0), l_gpu(DType::F32, nseq * c.d * c.N, rng, 0, 0);
  TensorView lc = l_cpu.view({nseq, c.d, c.N}), lg = l_gpu.view({nseq, c.d, c.N});
  selective_scan_bind_outputs(p, o_cpu.view({c.b, c.d, c.L}), &lc);
  cpu::selective_scan(p);
  selective_scan_bind_outputs(p, o_gpu.view({c.b, c.d, c.L}), &lg);
  run_cuda_selective_scan(p);
  compare(o_gpu, o_cpu, "out");
  compare(l_gpu, l_cpu, "last state");
}

void run_update(DType dt, int64_t b, int64_t d, int64_t N, int64_t G, std::vector<int32_t> idx, int64_t slots) {
  std::mt19937 rng(uint32_t(b * 7 + d + N));
  Buffer st(DType::F32, slots * d * N, rng, -1, 1), x(dt, b * d, rng, -1, 1), dtv(dt, b * d, rng, -2, 1), A(DType::F32, d * N, rng, -1, -0.1f);
  Buffer B(dt, b * G * N, rng, -1, 1), C(dt, b * G * N, rng, -1, 1), z(dt, b * d, rng, -1, 1), D(DType::F32, d, rng, -1, 1);
  Buffer st2 = st;
  StateUpdateInputs in;
  in.state = st.view({slots, d, N});
  in.x = x.view({b, d});
  in.dt = dtv.view({b, d});
  in.A = A.view({d, N});
  in.B = B.view({b, G, N});
  in.C = C.view({b, G, N});
  TensorView zv = z.view({b, d}), Dv = D.view({d}), iv;
  iv.data = idx.data(), iv.dtype = DType::I32, iv.ndim = 1, iv.shape[0] = b, iv.stride[0] = 1, iv.capacity = b;
  in.z = &zv;
  in.D = &Dv;
  in.state_indices = &iv;
  in.softplus = true;
  StateUpdateParams p = state_update_prepare(in);
  Buffer o1(dt, b * d, rng, 0, 0), o2(dt, b * d, rng, 0, 0);
  state_update_bind_output(p, o1.view({b, d}));
  cpu::selective_state_update(p);
  p.state = st2.view({slots, d, N});
  state_update_bind_output(p, o2.view({b, d}));
  run_cuda_state_update(p);
  compare(o2, o1, "out");
  compare(st2, st, "state");
}

void run_conv(DType dt, int64_t b, int64_t d, int64_t L, int64_t w, bool silu, std::vector<int32_t> cu) {
  std::mt19937 rng(uint32_t(b + d * 3 + L * 5 + w));
  const int64_t nseq = cu.empty() ? b : int64_t(cu.size()) - 1;
  Buffer x(dt, b * d * L, rng, -1, 1), wt(dt, d * w, rng, -1, 1), bias(dt, d, rng, -1, 1), init(dt, nseq * d * (w - 1), rng, -1, 1);
  Conv1dInputs in;
  in.x = x.view({b, d, L});
  in.weight = wt.view({d, w});
  TensorView bv = bias.view({d}), iv = init.view({nseq, d, w - 1}), cv;
  if (!cu.empty()) {
    cv.data = cu.data(), cv.dtype = DType::I32, cv.ndim = 1, cv.shape[0] = int64_t(cu.size()), cv.stride[0] = 1;
    cv.capacity = int64_t(cu.size());
    in.cu_seqlens = &cv;
  }
  in.bias = &bv;
  in.initial_states = &iv;
  in.silu = silu;
  Conv1dParams p = conv1d_prepare(in);
  Buffer o1(dt, b * d * L, rng, 0, 0), o2(dt, b * d * L, rng, 0, 0), f1(dt, nseq * d * (w - 1), rng, 0, 0), f2(dt, nseq * d * (w - 1), rng, 0, 0);
  TensorView fv1 = f1.view({nseq, d, w - 1}), fv2 = f2.view({nseq, d, w - 1});
  conv1d_bind_outputs(p, o1.view({b, d, L}), &fv1);
  cpu::causal_conv1d(p);
  conv1d_bind_outputs(p, o2.view({b, d, L}), &fv2);
  run_cuda_conv1d(p);
  compare(o2, o1, "out");
  compare(f2, f1, "final states");
}

void run_conv_update(DType dt, int64_t b, int64_t d, int64_t T, int64_t w, int64_t K, std::vector<int32_t> idx, int64_t slots) {
  std::mt19937 rng(uint32_t(b + d + T + w + K));
  Buffer x(dt, b * d * T, rng, -1, 1), st(dt, slots * d * K, rng, -1, 1), wt(dt, d * w, rng, -1, 1), bias(dt, d, rng, -1, 1);
  Buffer st2 = st;
  Conv1dUpdateInputs in;
  in.x = x.view({b, d, T});
  in.conv_state = st.view({slots, d, K});
  in.weight = wt.view({d, w});
  TensorView bv = bias.view({d}), iv;
  iv.data = idx.data(), iv.dtype = DType::I32, iv.ndim = 1, iv.shape[0] = b, iv.stride[0] = 1, iv.capacity = b;
  in.bias = &bv;
  in.state_indices = &iv;
  in.silu = true;
  Conv1dUpdateParams p = conv1d_update_prepare(in);
  Buffer o1(dt, b * d * T, rng, 0, 0), o2(dt, b * d * T, rng, 0, 0);
  conv1d_update_bind_output(p, o1.view({b, d, T}));
  cpu::causal_conv1d_update(p);
  p.conv_state = st2.view({slots, d, K});
  conv1d_update_bind_output(p, o2.view({b, d, T}));
  run_cuda_conv1d_update(p);
  compare(o2, o1, "out");
  compare(st2, st, "conv state");
}

// A view of `b` placed on cuda:0 (only metadata: validation never reads it).
TensorView on_cuda(TensorView t) {
  t.device = Device{DeviceKind::CUDA, 0};
  return t;
}

// The CUDA launch grids hold at most 65535 blocks in y and z: the ops refuse more
// sequences, channels (conv) or batch rows (updates) before touching the device,
// and take them on the CPU.
void grid_limits() {
  std::mt19937 rng(7);
  const int64_t n = 65536;
  Buffer big(DType::F32, n, rng, -1, 1), one(DType::F32, 1, rng, -1, 1), w2(DType::F32, 2, rng, -1, 1),
      wn(DType::F32, 2 * n, rng, -1, 1);
  for (bool cuda : {false, true}) {
    auto dev = [&](TensorView t) { return cuda ? on_cuda(t) : t; };
    auto expect = [&](auto&& f, const std::string& needle) {
      if (cuda) expect_throw<Error>(f, needle);
      else f();  // the CPU backend has no such limit
    };
    SelectiveScanInputs si;
    si.u = dev(big.view({n, 1, 1})), si.delta = dev(big.view({n, 1, 1}));
    si.A = dev(one.view({1, 1})), si.B = dev(one.view({1, 1})), si.C = dev(one.view({1, 1}));
    expect([&] { selective_scan_prepare(si); }, "the number of sequences (u.shape[0], or those of options.cuSeqlens) must be at most 65535");

    StateUpdateInputs ui;
    ui.A = dev(one.view({1, 1}));
    Buffer st(DType::F32, n, rng, -1, 1), xs(DType::F32, n, rng, -1, 1), dts(DType::F32, n, rng, -1, 1),
        bs(DType::F32, n, rng, -1, 1), cs(DType::F32, n, rng, -1, 1);
    ui.state = dev(st.view({n, 1, 1})), ui.x = dev(xs.view({n, 1})), ui.dt = dev(dts.view({n, 1}));
    ui.B = dev(bs.view({n, 1})), ui.C = dev(cs.view({n, 1}));
    expect([&] { state_update_prepare(ui); }, "x.shape[0] (batch) must be at most 65535");

    Conv1dInputs ci;
    ci.x = dev(big.view({1, n, 1})), ci.weight = dev(wn.view({n, 2}));
    expect([&] { conv1d_prepare(ci); }, "x.shape[1] (channels) must be at most 65535");
    ci.x = dev(big.view({n, 1, 1})), ci.weight = dev(w2.view({1, 2}));
    expect([&] { conv1d_prepare(ci); }, "the number of sequences (x.shape[0], or those of options.cuSeqlens) must be at most 65535");

    Conv1dUpdateInputs cu;
    cu.x = dev(xs.view({n, 1})), cu.conv_state = dev(st.view({n, 1, 1})), cu.weight = dev(w2.view({1, 2}));
    expect([&] { conv1d_update_prepare(cu); }, "x.shape[0] (batch) must be at most 65535");
  }
}

// The final states (conv) and the last state (scan) are written while the initial
// ones are read, by other blocks: in place they would race, so they are refused.
void state_aliasing() {
  std::mt19937 rng(8);
  Buffer x(DType::F32, 2 * 3 * 10, rng, -1, 1), w(DType::F32, 3 * 4, rng, -1, 1), init(DType::F32, 2 * 3 * 3, rng, -1, 1),
      out(DType::F32, 2 * 3 * 10, rng, 0, 0);
  Conv1dInputs ci;
  ci.x = x.view({2, 3, 10}), ci.weight = w.view({3, 4});
  TensorView iv = init.view({2, 3, 3});
  ci.initial_states = &iv;
  Conv1dParams cp = conv1d_prepare(ci);
  expect_throw<Error>([&] { conv1d_bind_outputs(cp, out.view({2, 3, 10}), &iv); },
                      "finalStates overlaps the memory of options.initialStates");

  Buffer u(DType::F32, 2 * 3 * 10, rng, -1, 1), dl(DType::F32, 2 * 3 * 10, rng, -1, 1), A(DType::F32, 3 * 4, rng, -1, 0),
      B(DType::F32, 3 * 4, rng, -1, 1), st(DType::F32, 2 * 3 * 4, rng, -1, 1), so(DType::F32, 2 * 3 * 10, rng, 0, 0);
  SelectiveScanInputs si;
  si.u = u.view({2, 3, 10}), si.delta = dl.view({2, 3, 10}), si.A = A.view({3, 4}), si.B = B.view({3, 4}), si.C = B.view({3, 4});
  TensorView sv = st.view({2, 3, 4});
  si.initial_state = &sv;
  SelectiveScanParams sp = selective_scan_prepare(si);
  expect_throw<Error>([&] { selective_scan_bind_outputs(sp, so.view({2, 3, 10}), &sv); },
                      "lastState overlaps the memory of options.initialState");
}

}  // namespace

void register_ssm_tests() {
  add("ssm limits: CUDA grid dimensions are checked before the device is used", grid_limits);
  add("ssm limits: final and last states may not alias the initial ones", state_aliasing);
  const DType dts[] = {DType::F32, DType::F16, DType::BF16};
  std::vector<ScanCase> cases;
  for (DType dt : dts) {
    for (int64_t N : {1, 16, 64, 256}) {
      ScanCase c;
      c.dt = dt, c.N = N, c.L = N == 256 ? 70 : 700, c.d = 11;
      cases.push_back(c);
    }
    // Options off by the bits of i, at odd sizes past one chunk of the kernel (512 steps).
    for (int i = 0; i < 16; ++i) {
      ScanCase c;
      c.dt = dt, c.b = 2, c.d = 20, c.G = 2, c.L = 517 + 13 * i, c.N = 5 + i;
      c.Bv = !(i & 1), c.Cv = !(i & 2), c.D = i & 4, c.z = i & 8, c.bias = i % 3 == 0, c.softplus = i % 5 != 0, c.init = i % 2 == 0;
      cases.push_back(c);
    }
    for (int i = 0; i < 4; ++i) {  // sequences of at most 256 steps: the kernel's short form (8 steps per lane)
      ScanCase c;
      c.dt = dt, c.b = 2, c.d = 13, c.G = 1, c.L = 100 + 52 * i, c.N = 9 + 2 * i;
      c.Bv = !(i & 1), c.Cv = !(i & 2), c.init = i % 2 == 1;
      cases.push_back(c);
    }
    ScanCase v;
    v.dt = dt, v.d = 9, v.L = 600, v.cu = {0, 1, 2, 2, 300, 600};
    cases.push_back(v);
    v.L = 256, v.cu = {0, 5, 130, 256};
    cases.push_back(v);
  }
  ScanCase longc;
  longc.d = 3, longc.L = 2049, longc.N = 16;
  cases.push_back(longc);
  for (const ScanCase& c : cases) add(c.name(), [c] { run_scan(c); });
  for (DType dt : dts) {
    add(std::string("ssm state update ") + dtype_name(dt) + " slots with padding", [dt] { run_update(dt, 3, 20, 16, 2, {4, -1, 1}, 5); });
    add(std::string("ssm state update ") + dtype_name(dt) + " N 256", [dt] { run_update(dt, 2, 130, 256, 1, {1, 0}, 2); });
    // Segments of 1, 8 and 32 lanes per channel; channel counts that leave a block part-full.
    add(std::string("ssm state update ") + dtype_name(dt) + " N 1, 5, 40", [dt] {
      run_update(dt, 2, 37, 1, 1, {0, 1}, 2);
      run_update(dt, 3, 21, 5, 3, {2, 0, 1}, 3);
      run_update(dt, 2, 9, 40, 1, {1, -1}, 2);
    });
    for (int64_t w = 2; w <= 8; ++w)
      add(std::string("ssm conv1d ") + dtype_name(dt) + " w" + std::to_string(w), [dt, w] { run_conv(dt, 2, 5, 300 + w, w, w % 2 == 0, {}); });
    add(std::string("ssm conv1d ") + dtype_name(dt) + " varlen", [dt] { run_conv(dt, 1, 5, 100, 4, true, {0, 1, 3, 100}); });
    add(std::string("ssm conv1d update ") + dtype_name(dt), [dt] { run_conv_update(dt, 3, 7, 5, 4, 6, {2, -1, 0}, 4); });
  }
}

}  // namespace subq::test
