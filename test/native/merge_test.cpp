// The CUDA merge kernel (csrc/cuda/merge.cuh) against the CPU backend: odd shapes,
// every dtype, both layouts, strided views, empty (-inf) and NaN states.
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../../csrc/core/half.h"
#include "../../csrc/cpu/merge.h"
#include "harness.h"
#include "merge_runner.h"

namespace subq::test {

namespace {

struct MergeCase {
  DType dt = DType::F32;
  int64_t B = 1, H = 1, N = 1, D = 1;
  int64_t row_pad = 0;  // extra elements after each row of o1/o2 (strided views)
  Layout layout = Layout::BHND;
  std::string name() const {
    return std::string("merge ") + dtype_name(dt) + " B" + std::to_string(B) + " H" + std::to_string(H) + " N" +
           std::to_string(N) + " D" + std::to_string(D) + (row_pad ? " strided" : "") +
           (layout == Layout::BNHD ? " bnhd" : "");
  }
};

// A buffer and a view of it: [d0, d1, d2, (D)] rows of `row` elements.
struct Buffer {
  std::vector<uint8_t> bytes;
  TensorView view;
  Buffer(DType dt, std::vector<int64_t> shape, int64_t row_pad) {
    view.dtype = dt;
    view.ndim = int(shape.size());
    int64_t s = 1;
    for (int i = view.ndim - 1; i >= 0; --i) {
      view.shape[i] = shape[i];
      view.stride[i] = s;
      s *= shape[i] + (i == view.ndim - 1 ? row_pad : 0);
    }
    view.capacity = s;
    bytes.assign(size_t(s) * dtype_size(dt) + 16, 0);
    view.data = bytes.data();
  }
  float get(int64_t i) const {
    if (view.dtype == DType::F32) return view.ptr<float>()[i];
    const uint16_t h = view.ptr<uint16_t>()[i];
    return view.dtype == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
  }
  void set(int64_t i, float v) {
    if (view.dtype == DType::F32) view.ptr<float>()[i] = v;
    else view.ptr<uint16_t>()[i] = view.dtype == DType::F16 ? f32_to_f16(v) : f32_to_bf16(v);
  }
};

void run_case(const MergeCase& c) {
  std::mt19937 g(uint32_t(c.B * 131 + c.N * 7 + c.D));
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  const bool bnhd = c.layout == Layout::BNHD;
  const std::vector<int64_t> oshape = bnhd ? std::vector<int64_t>{c.B, c.N, c.H, c.D} : std::vector<int64_t>{c.B, c.H, c.N, c.D};
  Buffer o1(c.dt, oshape, c.row_pad), o2(c.dt, oshape, c.row_pad), l1(DType::F32, {c.B, c.H, c.N}, 0),
      l2(DType::F32, {c.B, c.H, c.N}, 0);
  for (int64_t i = 0; i < o1.view.capacity; ++i) o1.set(i, u(g)), o2.set(i, 3 * u(g));
  for (int64_t i = 0; i < l1.view.capacity; ++i) {
    // Rows where one state, the other or both are empty; one far-apart pair; one NaN.
    l1.set(i, i % 5 == 1 || i % 7 == 3 ? -INFINITY : 8 * u(g));
    l2.set(i, i % 6 == 2 || i % 7 == 3 ? -INFINITY : 8 * u(g));
    if (i == 4) l1.set(i, 90.f), l2.set(i, -90.f);
    if (i == 9) l2.set(i, NAN);
  }
  MergeParams p = merge_prepare(o1.view, l1.view, o2.view, l2.view, c.layout);
  Buffer co(c.dt, oshape, 0), cl(DType::F32, {c.B, c.H, c.N}, 0), go(c.dt, oshape, 0), gl(DType::F32, {c.B, c.H, c.N}, 0);
  for (int64_t i = 0; i < go.view.capacity; ++i) go.set(i, NAN);  // unwritten outputs show up
  for (int64_t i = 0; i < gl.view.capacity; ++i) gl.set(i, NAN);
  MergeParams pc = p, pg = p;
  merge_bind_outputs(pc, co.view, cl.view);
  merge_bind_outputs(pg, go.view, gl.view);
  cpu::merge_states(pc);
  run_cuda_merge(pg);
  // Same fp32 formula; only exp/log may round differently on the device.
  const double ulp = c.dt == DType::F32 ? 1e-6 : c.dt == DType::F16 ? 1.0 / 1024 : 1.0 / 128;
  for (int64_t i = 0; i < co.view.capacity; ++i) {
    const float a = co.get(i), b = go.get(i);
    if (std::isnan(a) && std::isnan(b)) continue;
    check(std::fabs(a - b) <= ulp * (1 + std::fabs(a)),
          "out[" + std::to_string(i) + "] = " + std::to_string(b) + ", CPU " + std::to_string(a));
  }
  for (int64_t i = 0; i < cl.view.capacity; ++i) {
    const float a = cl.get(i), b = gl.get(i);
    if ((std::isnan(a) && std::isnan(b)) || a == b) continue;
    check(std::fabs(a - b) <= 1e-6 * (1 + std::fabs(a)),
          "lse[" + std::to_string(i) + "] = " + std::to_string(b) + ", CPU " + std::to_string(a));
  }
}

}  // namespace

void register_merge_tests() {
  std::vector<MergeCase> cases;
  for (DType dt : {DType::F32, DType::F16, DType::BF16}) {
    for (auto [B, H, N, D] : std::vector<std::array<int64_t, 4>>{{1, 1, 1, 1}, {2, 3, 17, 64}, {1, 2, 113, 80}, {3, 1, 5, 33}, {1, 1, 9, 256}}) {
      MergeCase c;
      c.dt = dt, c.B = B, c.H = H, c.N = N, c.D = D;
      cases.push_back(c);
    }
    MergeCase s;
    s.dt = dt, s.B = 2, s.H = 3, s.N = 11, s.D = 40, s.row_pad = 8;
    cases.push_back(s);
    s.layout = Layout::BNHD, s.row_pad = 0;
    cases.push_back(s);
  }
  for (const MergeCase& c : cases) add(c.name(), [c] { run_case(c); });
}

}  // namespace subq::test
