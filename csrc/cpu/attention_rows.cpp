// Rows of Q and O for the attention driver (attention_rows.h).
#include "attention_rows.h"

#include <algorithm>
#include <cmath>

#include "../core/half.h"
#include "../core/log2.h"
#include "online_softmax.h"

namespace subq::cpu {

int64_t packed_row_offset(const TensorView& t, int64_t g, int64_t b, int64_t hk, int64_t lane) {
  return b * t.stride[0] + (hk * g + lane % g) * t.stride[1] + (lane / g) * t.stride[2];
}

double q_scale(const AttentionParams& p) { return p.softcap > 0 ? double(p.scale) / p.softcap : p.scale * kLog2e; }
float softcap_log2(const AttentionParams& p) { return float(double(p.softcap) * kLog2e); }

void load_q_row(const AttentionParams& p, int64_t g, int64_t b, int64_t hk, int64_t lane, float* dst) {
  const TensorView& q = p.q;
  const int64_t off = packed_row_offset(q, g, b, hk, lane);
  const float* src = q.dtype == DType::F32 ? q.ptr<float>() + off : dst;
  if (q.dtype != DType::F32) half_to_f32(q.dtype, q.ptr<uint16_t>() + off, dst, p.D);
  const double sc = q_scale(p);
  for (int64_t x = 0; x < p.D; ++x) dst[x] = float(src[x] * sc);
}

void store_row(const AttentionParams& p, int64_t g, int64_t b, int64_t hk, int64_t lane, float* o, float m, float l) {
  const TensorView& out = p.out;
  const float inv = l > 0 ? 1.f / l : 0.f;
  const int64_t off = packed_row_offset(out, g, b, hk, lane);
  float* dst = out.dtype == DType::F32 ? out.ptr<float>() + off : o;
  for (int64_t x = 0; x < p.Dv; ++x) dst[x] = o[x] * inv;
  if (out.dtype != DType::F32) f32_to_half(out.dtype, o, out.ptr<uint16_t>() + off, p.Dv);
  if (p.lse.data) {
    // A NaN score makes l NaN, and so the LSE, so that a merge cannot mistake the row
    // for an empty one.
    p.lse.ptr<float>()[packed_row_offset(p.lse, g, b, hk, lane)] = lse_of(m, l);
  }
}

// Through the SIMD converters a chunk at a time.
void round_to(DType t, float* x, int64_t n) {
  uint16_t h[512];
  for (int64_t i = 0; i < n; i += 512) {
    const int64_t c = std::min<int64_t>(512, n - i);
    f32_to_half(t, x + i, h, c);
    half_to_f32(t, h, x + i, c);
  }
}

}  // namespace subq::cpu
