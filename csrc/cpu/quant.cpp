// Quantization (symmetric, per token or per block of tokens, optionally smoothed) and the
// set-up of quantized attention. Quantizing is one pass over Q and K; the attention itself
// is the shared driver (cpu/attention_tiles.cpp) with its integer Q.K^T phase.
#include "quant.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "../core/cpu_features.h"
#include "../core/half.h"
#include "../core/thread_pool.h"
#include "attention.h"
#include "quant_kernels.h"
#include "rows.h"

namespace subq::cpu {

namespace {

// Runs f(b, h) for every head of a [B, H, ...] tensor, heads split evenly over threads.
template <class F>
void for_heads(int64_t B, int64_t H, F&& f) {
  const int64_t n = B * H;
  ThreadPool::instance().run([&](int t, int nt) {
    for (int64_t i = n * t / nt; i < n * (t + 1) / nt; ++i) f(i / H, i % H);
  });
}

// Row n of head (b, h) of a [B, H, N, D] view in fp32: in place, or converted into buf.
const float* row_f32(const TensorView& x, int64_t b, int64_t h, int64_t n, float* buf) {
  return row_f32(x, b * x.stride[0] + h * x.stride[1] + n * x.stride[2], x.shape[3], buf);
}

// One head: the mean (when smoothing), then per group of rows the scale and the values.
void quantize_head(const TensorView& x, bool smooth, const QuantView& out, int64_t b, int64_t h) {
  const int64_t N = out.N, D = out.D;
  std::vector<float> buf(static_cast<size_t>(D)), mean(static_cast<size_t>(D), 0.f), y(static_cast<size_t>(std::min(out.group, N) * D));
  if (smooth) {
    std::vector<double> sum(size_t(D), 0.0);
    for (int64_t n = 0; n < N; ++n) {
      const float* r = row_f32(x, b, h, n, buf.data());
      for (int64_t c = 0; c < D; ++c) sum[size_t(c)] += r[c];
    }
    for (int64_t c = 0; c < D; ++c) mean[size_t(c)] = float(sum[size_t(c)] / double(N));
    std::copy(mean.begin(), mean.end(), static_cast<float*>(out.mean.data) + (b * out.H + h) * D);
  }
  float* scales = static_cast<float*>(out.scales.data) + (b * out.H + h) * out.groups();
  const QuantKernels& kern = pick_quant_kernels(16);
  for (int64_t n0 = 0; n0 < N; n0 += out.group) {
    const int64_t rows = std::min(out.group, N - n0);
    for (int64_t r = 0; r < rows; ++r) {
      const float* src = row_f32(x, b, h, n0 + r, buf.data());
      float* yr = y.data() + r * D;
      for (int64_t c = 0; c < D; ++c) yr[c] = src[c] - mean[size_t(c)];
    }
    scales[n0 / out.group] = kern.quantize(y.data(), rows, D, out.bits, const_cast<uint8_t*>(out.row(b, h, n0)));
  }
}

// A QuantView over freshly allocated buffers for a [B, H, N, D] tensor.
struct QuantBuffers {
  std::vector<uint8_t> data;
  std::vector<float> scales, mean;
  QuantView view;

  QuantBuffers(int64_t B, int64_t H, int64_t N, int64_t D, int bits, int64_t group, bool smooth) {
    QuantView& v = view;
    v.bits = bits, v.group = group, v.B = B, v.H = H, v.N = N, v.D = D;
    data.resize(size_t(B * H * N * v.row_bytes()));
    scales.resize(size_t(B * H * v.groups()));
    v.data.data = data.data();
    v.scales.data = scales.data();
    if (smooth) {
      mean.resize(size_t(B * H * D));
      v.mean.data = mean.data();
    }
  }
};

}  // namespace

void quantize(const QuantizeParams& p) {
  for_heads(p.out.B, p.out.H, [&](int64_t b, int64_t h) { quantize_head(p.x, p.smooth, p.out, b, h); });
}

void dequantize(const DequantizeParams& p) {
  const QuantView& in = p.in;
  for_heads(in.B, in.H, [&](int64_t b, int64_t h) {
    const float* mean = in.mean_row(b, h);
    for (int64_t n = 0; n < in.N; ++n) {
      float* dst = p.out.ptr<float>() + b * p.out.stride[0] + h * p.out.stride[1] + n * p.out.stride[2];
      const uint8_t* row = in.row(b, h, n);
      const float s = in.scale(b, h, n);
      for (int64_t x = 0; x < in.D; ++x) dst[x] = float(quant_value(row, in.bits, x)) * s + (mean ? mean[x] : 0.f);
    }
  });
}

void quantized_attention(const QuantAttentionParams& qp) {
  AttentionParams p = qp.attn;
  const int64_t B = p.B, Hq = p.Hq, Hkv = p.Hkv, Nq = p.Nq, Nk = p.Nk, D = p.D, g = Hq / Hkv;
  QuantQK qq;
  qq.pv = qp.pv;
  qq.v = qp.vq;

  std::unique_ptr<QuantBuffers> kbuf;
  if (qp.kq.present()) {
    qq.k = qp.kq;
  } else {
    kbuf = std::make_unique<QuantBuffers>(B, Hkv, Nk, D, qp.qk_bits, qp.per_token ? 1 : kKBlock, qp.smooth_k);
    qq.k = kbuf->view;
    for_heads(B, Hkv, [&](int64_t b, int64_t h) { quantize_head(p.k, qp.smooth_k, qq.k, b, h); });
  }
  // pv 'int8' without a quantized V: V quantized as K is (int8, the call's granularity),
  // unsmoothed.
  std::unique_ptr<QuantBuffers> vbuf;
  if (qp.pv == DType::I8 && !qq.v.present()) {
    vbuf = std::make_unique<QuantBuffers>(B, Hkv, Nk, p.Dv, 8, qp.per_token ? 1 : kKBlock, false);
    qq.v = vbuf->view;
    for_heads(B, Hkv, [&](int64_t b, int64_t h) { quantize_head(p.v, false, qq.v, b, h); });
  }
  QuantBuffers qbuf(B, Hq, Nq, D, qp.qk_bits, qp.per_token ? 1 : kQBlock, qp.smooth_q);
  qq.q = qbuf.view;
  for_heads(B, Hq, [&](int64_t b, int64_t h) { quantize_head(p.q, qp.smooth_q, qq.q, b, h); });

  // The smoothing terms, in double, in the scores' unit:
  //   q_bias[b, h, i] = unit * q_i . km(b, h / g),   qm_k[b, h, j] = unit * qm(b, h) . deq(K'_j).
  const double unit = score_unit(p);
  std::vector<float> q_bias, qm_k;
  if (qq.k.mean.data) {
    q_bias.resize(size_t(B * Hq * Nq));
    for_heads(B, Hq, [&](int64_t b, int64_t h) {
      const float* km = qq.k.mean_row(b, h / g);
      std::vector<float> buf(static_cast<size_t>(D));
      for (int64_t i = 0; i < Nq; ++i) {
        const float* q = row_f32(p.q, b, h, i, buf.data());
        double dot = 0;
        for (int64_t x = 0; x < D; ++x) dot += double(q[x]) * km[x];
        q_bias[size_t((b * Hq + h) * Nq + i)] = float(unit * dot);
      }
    });
    qq.q_bias = q_bias.data();
  }
  if (qp.smooth_q) {
    qm_k.resize(size_t(B * Hq * Nk));
    for_heads(B, Hq, [&](int64_t b, int64_t h) {
      const float* qm = qq.q.mean_row(b, h);
      const QuantView& k = qq.k;
      std::vector<int8_t> row(static_cast<size_t>(D));
      for (int64_t j = 0; j < Nk; ++j) {
        quant_values(k.row(b, h / g, j), k.bits, D, row.data());
        const float s = k.scale(b, h / g, j);
        double dot = 0;
        for (int64_t x = 0; x < D; ++x) dot += double(qm[x]) * double(float(row[size_t(x)]) * s);
        qm_k[size_t((b * Hq + h) * Nk + j)] = float(unit * dot);
      }
    });
    qq.qm_k = qm_k.data();
  }
  p.quant = &qq;
  attention(p);
}

const QuantKernels& pick_quant_kernels(int64_t tq) {
  const SimdLevel level = simd_level();
  if (level == SimdLevel::AVX512 && cpu_features().avx512vnni && tq % 16 == 0) return quant_kernels_avx512_vnni();
  if (level != SimdLevel::Scalar && tq % 8 == 0) return quant_kernels_avx2();
  return quant_kernels_scalar();
}

}  // namespace subq::cpu
