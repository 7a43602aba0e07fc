// CUDA XAttention block scores (emulated) against an fp64 reference written from the
// definition in core/xattention_params.h: reduced rows, antidiagonal sums, causal
// block alignment, padding rows, rows that see no key, GQA, every stride and block,
// fp32 / fp16 / bf16 (the last two on the tensor cores, also against the CUDA-core
// kernel on the same values in fp32), strided (BNHD) inputs.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../../csrc/core/half.h"
#include "harness.h"
#include "xattention_runner.h"

namespace subq::test {

namespace {

struct XCase {
  DType dt = DType::F32;
  int64_t B = 1, Hq = 2, Hkv = 2, Nq = 130, Nk = 130, D = 64, S = 8, block = 128;
  bool causal = false, bnhd = false;

  std::string name() const {
    return std::string("xattention scores ") + dtype_name(dt) + " B" + std::to_string(B) + " H" + std::to_string(Hq) +
           "/" + std::to_string(Hkv) + " Nq" + std::to_string(Nq) + " Nk" + std::to_string(Nk) + " D" +
           std::to_string(D) + " stride" + std::to_string(S) + " block" + std::to_string(block) +
           (causal ? " causal" : "") + (bnhd ? " bnhd" : "");
  }
};

double round_to(DType dt, double x) {
  if (dt == DType::F16) return f16_to_f32(f32_to_f16(float(x)));
  if (dt == DType::BF16) return bf16_to_f32(f32_to_bf16(float(x)));
  return float(x);
}

// scores[b][h][qb][kb] from the definition, in double.
std::vector<double> reference(const XCase& c, const std::vector<double>& q, const std::vector<double>& k, double scale) {
  const int64_t R = c.block / c.S, nqb = (c.Nq + c.block - 1) / c.block, nkb = (c.Nk + c.block - 1) / c.block;
  const int64_t rq = (c.Nq + c.S - 1) / c.S, rk = (c.Nk + c.S - 1) / c.S;
  std::vector<double> out(c.B * c.Hq * nqb * nkb, 0.0), a(rk);
  auto Q = [&](int64_t b, int64_t h, int64_t n, int64_t d) { return n < c.Nq ? q[((b * c.Hq + h) * c.Nq + n) * c.D + d] : 0.0; };
  auto K = [&](int64_t b, int64_t h, int64_t n, int64_t d) { return n < c.Nk ? k[((b * c.Hkv + h) * c.Nk + n) * c.D + d] : 0.0; };
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t h = 0; h < c.Hq; ++h) {
      const int64_t hk = h / (c.Hq / c.Hkv);
      for (int64_t i = 0; i < rq; ++i) {
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < rk; ++j) {
          a[j] = -std::numeric_limits<double>::infinity();
          if (c.causal && j > i + (nkb - nqb) * R) continue;
          double dot = 0;
          for (int64_t t = 0; t < c.S; ++t)
            for (int64_t d = 0; d < c.D; ++d) dot += Q(b, h, i * c.S + (c.S - 1 - t), d) * K(b, hk, j * c.S + t, d);
          a[j] = dot * scale / double(c.S);
          mx = std::max(mx, a[j]);
        }
        if (mx == -std::numeric_limits<double>::infinity()) continue;
        double sum = 0;
        for (int64_t j = 0; j < rk; ++j) sum += std::exp(a[j] - mx);
        for (int64_t j = 0; j < rk; ++j) out[((b * c.Hq + h) * nqb + i / R) * nkb + j / R] += std::exp(a[j] - mx) / sum;
      }
    }
  return out;
}

void run_case(const XCase& c) {
  std::mt19937 rng(uint32_t(c.Nq * 31 + c.Nk * 7 + c.S + c.block + int(c.dt)));
  std::uniform_real_distribution<double> u(-1.5, 1.5);
  const size_t es = dtype_size(c.dt);
  // Inputs in [B, H, N, D] order, or [B, N, H, D] memory read through swapped strides.
  auto make = [&](int64_t H, int64_t N, std::vector<double>& dense, std::vector<unsigned char>& bytes, TensorView& v) {
    dense.resize(c.B * H * N * c.D);
    bytes.assign(dense.size() * es, 0);
    v = TensorView{};
    v.data = bytes.data(), v.dtype = c.dt, v.ndim = 4, v.capacity = int64_t(dense.size());
    const int64_t shape[4] = {c.B, H, N, c.D};
    for (int i = 0; i < 4; ++i) v.shape[i] = shape[i];
    v.stride[3] = 1;
    if (c.bnhd) v.stride[1] = c.D, v.stride[2] = H * c.D, v.stride[0] = N * H * c.D;
    else v.stride[2] = c.D, v.stride[1] = N * c.D, v.stride[0] = H * N * c.D;
    for (int64_t b = 0; b < c.B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t n = 0; n < N; ++n)
          for (int64_t d = 0; d < c.D; ++d) {
            const double x = round_to(c.dt, u(rng));
            dense[((b * H + h) * N + n) * c.D + d] = x;
            const int64_t at = b * v.stride[0] + h * v.stride[1] + n * v.stride[2] + d;
            if (c.dt == DType::F32) reinterpret_cast<float*>(bytes.data())[at] = float(x);
            else reinterpret_cast<uint16_t*>(bytes.data())[at] = c.dt == DType::F16 ? f32_to_f16(float(x)) : f32_to_bf16(float(x));
          }
  };
  std::vector<double> qd, kd;
  std::vector<unsigned char> qb, kb;
  XAttentionParams p;
  make(c.Hq, c.Nq, qd, qb, p.q);
  make(c.Hkv, c.Nk, kd, kb, p.k);
  p.B = c.B, p.Hq = c.Hq, p.Hkv = c.Hkv, p.Nq = c.Nq, p.Nk = c.Nk, p.D = c.D;
  p.stride = c.S, p.block = c.block, p.causal = c.causal;
  p.scale = float(1.0 / std::sqrt(double(c.D)));
  const int64_t nqb = p.nqb(), nkb = p.nkb();
  // Output rows padded to a wider stride, NaN-filled: every score must be written.
  const int64_t row = nkb + 3;
  std::vector<float> out(c.B * c.Hq * nqb * row, std::numeric_limits<float>::quiet_NaN());
  p.scores.data = out.data(), p.scores.dtype = DType::F32, p.scores.ndim = 4;
  const int64_t os[4] = {c.B, c.Hq, nqb, nkb};
  for (int i = 0; i < 4; ++i) p.scores.shape[i] = os[i];
  p.scores.stride[3] = 1, p.scores.stride[2] = row, p.scores.stride[1] = nqb * row, p.scores.stride[0] = c.Hq * nqb * row;
  p.scores.capacity = int64_t(out.size());
  run_cuda_xattention_scores(p);

  const std::vector<double> ref = reference(c, qd, kd, double(p.scale));
  double err = 0;
  for (int64_t r = 0; r < c.B * c.Hq * nqb; ++r)
    for (int64_t j = 0; j < row; ++j) {
      const float x = out[r * row + j];
      if (j >= nkb) {
        check(std::isnan(x), "write past the last key block of a row");
        continue;
      }
      check(!std::isnan(x), "score [" + std::to_string(r) + "][" + std::to_string(j) + "] not written");
      err = std::max(err, std::abs(x - ref[r * nkb + j]));
    }
  // Scores are sums of up to R * R probabilities (at most R): fp32 with fp32 logits.
  check(err <= 2e-5 * double(c.block / c.S), "max error " + std::to_string(err));
  if (c.dt == DType::F32) return;

  // fp16 / bf16 ran on the tensor cores: the CUDA-core fp32 kernel on the same values
  // widened (exactly) to fp32 sums the same exact products in another order, so the two
  // agree to the fp32 level each has against the reference.
  std::vector<float> q32(qd.begin(), qd.end()), k32(kd.begin(), kd.end());
  auto widen = [&](TensorView& v, std::vector<float>& data, int64_t H, int64_t N) {
    v.data = data.data(), v.dtype = DType::F32, v.capacity = int64_t(data.size());
    v.stride[3] = 1, v.stride[2] = c.D, v.stride[1] = N * c.D, v.stride[0] = H * N * c.D;
  };
  XAttentionParams p32 = p;
  widen(p32.q, q32, c.Hq, c.Nq);
  widen(p32.k, k32, c.Hkv, c.Nk);
  std::vector<float> out32(out.size(), std::numeric_limits<float>::quiet_NaN());
  p32.scores.data = out32.data();
  run_cuda_xattention_scores(p32);
  double diff = 0;
  for (int64_t r = 0; r < c.B * c.Hq * nqb; ++r)
    for (int64_t j = 0; j < nkb; ++j) diff = std::max(diff, double(std::abs(out[r * row + j] - out32[r * row + j])));
  check(diff <= 4e-5 * double(c.block / c.S), "tensor cores vs CUDA cores: max difference " + std::to_string(diff));
}

std::vector<XCase> cases() {
  std::vector<XCase> out;
  struct Shape {
    int64_t B, Hq, Hkv, Nq, Nk, D;
  };
  // Ragged ends, Nq < Nk, Nq > Nk (causal rows that see nothing), GQA, odd head dims.
  const Shape shapes[] = {{1, 2, 2, 130, 130, 64}, {2, 4, 2, 70, 300, 40}, {1, 3, 1, 300, 100, 32}, {1, 2, 1, 256, 256, 128},
                          {1, 2, 2, 1, 200, 64}};
  const int64_t strides[][2] = {{8, 128}, {4, 64}, {16, 128}, {4, 128}, {16, 64}, {8, 64}};
  int idx = 0;
  for (DType dt : {DType::F32, DType::F16, DType::BF16})
    for (const auto& sb : strides)
      for (bool causal : {false, true}) {
        const Shape& s = shapes[idx % 5];
        XCase c;
        c.dt = dt, c.B = s.B, c.Hq = s.Hq, c.Hkv = s.Hkv, c.Nq = s.Nq, c.Nk = s.Nk, c.D = s.D;
        c.S = sb[0], c.block = sb[1], c.causal = causal, c.bnhd = idx % 4 == 3;
        ++idx;
        out.push_back(c);
      }
  return out;
}

}  // namespace

void register_xattention_tests() {
  for (const XCase& c : cases()) add(c.name(), [c] { run_case(c); });
}

}  // namespace subq::test
