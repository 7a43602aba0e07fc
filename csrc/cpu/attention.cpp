// Portable tiled flash attention: per (batch, head, query tile), walk the visible
// key blocks with an online softmax. The SIMD kernels replace the tile loop.
#include "attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "../core/half.h"
#include "../core/thread_pool.h"

namespace subq::cpu {

namespace {

constexpr int64_t kTileQ = 32, kTileK = 64;

// Reads row `n` of a [N, D] slice into fp32.
void load_row(const TensorView& t, int64_t base, int64_t n, int64_t d, float* dst) {
  const int64_t off = base + n * t.stride[2];
  if (t.dtype == DType::F32) std::copy_n(t.ptr<float>() + off, d, dst);
  else half_to_f32(t.dtype, t.ptr<uint16_t>() + off, dst, d);
}

void store_row(const TensorView& t, int64_t base, int64_t n, int64_t d, const float* src) {
  const int64_t off = base + n * t.stride[2];
  if (t.dtype == DType::F32) std::copy_n(src, d, t.ptr<float>() + off);
  else f32_to_half(t.dtype, src, t.ptr<uint16_t>() + off, d);
}

void tile(const AttentionParams& p, int64_t b, int64_t h, int64_t i0, int64_t i1) {
  const int64_t D = p.D, Dv = p.Dv, rows = i1 - i0, hk = h / (p.Hq / p.Hkv);
  const int64_t qb = b * p.q.stride[0] + h * p.q.stride[1];
  const int64_t kb = b * p.k.stride[0] + hk * p.k.stride[1];
  const int64_t vb = b * p.v.stride[0] + hk * p.v.stride[1];
  const int64_t ob = b * p.out.stride[0] + h * p.out.stride[1];
  const int64_t off = p.Nk - p.Nq;
  const float neg_inf = -std::numeric_limits<float>::infinity();

  std::vector<float> q(rows * D), kt(kTileK * D), vt(kTileK * Dv), s(kTileK), o(rows * Dv, 0.f);
  std::vector<float> m(rows, neg_inf), l(rows, 0.f);
  for (int64_t r = 0; r < rows; ++r) load_row(p.q, qb, i0 + r, D, &q[r * D]);

  int64_t lo, hi;
  attention_key_range(p, i0, i1, &lo, &hi);
  for (int64_t j0 = lo; j0 < hi; j0 += kTileK) {
    const int64_t cols = std::min(kTileK, hi - j0);
    for (int64_t c = 0; c < cols; ++c) {
      load_row(p.k, kb, j0 + c, D, &kt[c * D]);
      load_row(p.v, vb, j0 + c, Dv, &vt[c * Dv]);
    }
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t i = i0 + r;
      float mx = m[r];
      for (int64_t c = 0; c < cols; ++c) {
        const int64_t j = j0 + c;
        const bool visible = (p.window_left < 0 || j >= i + off - p.window_left) &&
                             (p.window_right < 0 || j <= i + off + p.window_right);
        float acc = 0;
        for (int64_t d = 0; d < D; ++d) acc += q[r * D + d] * kt[c * D + d];
        acc *= p.scale;
        if (p.softcap > 0) acc = p.softcap * std::tanh(acc / p.softcap);
        s[c] = visible ? acc : neg_inf;
        mx = std::max(mx, s[c]);
      }
      if (mx == neg_inf) continue;  // nothing visible yet in this row
      const float corr = std::exp(m[r] - mx);
      float sum = 0;
      float* orow = &o[r * Dv];
      for (int64_t d = 0; d < Dv; ++d) orow[d] *= corr;
      for (int64_t c = 0; c < cols; ++c) {
        const float e = std::exp(s[c] - mx);
        sum += e;
        for (int64_t d = 0; d < Dv; ++d) orow[d] += e * vt[c * Dv + d];
      }
      l[r] = l[r] * corr + sum;
      m[r] = mx;
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    const float inv = l[r] > 0 ? 1.f / l[r] : 0.f;
    for (int64_t d = 0; d < Dv; ++d) o[r * Dv + d] *= inv;
    store_row(p.out, ob, i0 + r, Dv, &o[r * Dv]);
    if (p.lse.data)
      p.lse.ptr<float>()[b * p.lse.stride[0] + h * p.lse.stride[1] + (i0 + r) * p.lse.stride[2]] =
          l[r] > 0 ? m[r] + std::log(l[r]) : neg_inf;
  }
}

}  // namespace

void attention(const AttentionParams& p) {
  const int64_t tiles = (p.Nq + kTileQ - 1) / kTileQ, total = p.B * p.Hq * tiles;
  ThreadPool::instance().run([&](int t, int n) {
    for (int64_t w = t; w < total; w += n) {
      const int64_t bh = w / tiles, qt = w % tiles;
      const int64_t i0 = qt * kTileQ, i1 = std::min(p.Nq, i0 + kTileQ);
      tile(p, bh / p.Hq, bh % p.Hq, i0, i1);
    }
  });
}

}  // namespace subq::cpu
