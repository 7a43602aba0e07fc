// Dense attention: O = softmax(scale * Q K^T, masked) V, as FlashAttention defines it.
//   q [B, Hq, Nq, D], k [B, Hkv, Nk, D], v [B, Hkv, Nk, Dv] (or [B, N, H, D] with
//   Layout::BNHD); query head h reads kv head h / (Hq / Hkv).
//   Key j is visible to query i when
//     i + Nk - Nq - left <= j <= i + Nk - Nq + right   (left/right = -1: unlimited);
//   causal is right = 0 (bottom-right aligned). softcap c > 0 maps s -> c*tanh(s/c)
//   after scaling. A row with no visible key gives O = 0 and LSE = -inf.
//   LSE is the natural log of the row's softmax denominator, [B, Hq, Nq] fp32.
#pragma once
#include <cstdint>
#include <utility>

#include "../core/tensor.h"

namespace subq {

enum class Layout { BHND, BNHD };

// A [B, N, H, D] view read as [B, H, N, D] (dims 1 and 2 swapped, no copy); a
// BHND view as it is. Kernels only ever see [B, H, N, D].
inline TensorView as_bhnd(const TensorView& t, Layout layout) {
  if (layout == Layout::BHND) return t;
  TensorView r = t;
  std::swap(r.shape[1], r.shape[2]);
  std::swap(r.stride[1], r.stride[2]);
  return r;
}

struct AttentionOptions {
  bool has_scale = false;
  double scale = 0;
  double softcap = 0;
  bool causal = false;
  int64_t window_left = -1, window_right = -1;
  bool return_lse = false;
  Layout layout = Layout::BHND;
};

// Views are normalised to [B, H, N, D] order (strides permuted, no copy).
struct AttentionParams {
  TensorView q, k, v, out, lse;  // lse.data == nullptr unless requested
  int64_t B = 0, Hq = 0, Hkv = 0, Nq = 0, Nk = 0, D = 0, Dv = 0;
  float scale = 1, softcap = 0;
  int64_t window_left = -1, window_right = -1;  // causal already folded into right = 0
  Layout layout = Layout::BHND;
};

// Checks q, k, v and the options; fills everything but out/lse.
AttentionParams attention_prepare(const TensorView& q, const TensorView& k, const TensorView& v,
                                  const AttentionOptions& opt);
// Shapes of the outputs in the caller's layout.
void attention_out_shape(const AttentionParams& p, int64_t shape[4]);
void attention_lse_shape(const AttentionParams& p, int64_t shape[3]);
// Checks caller-provided or freshly allocated outputs and binds them (lse may be null).
void attention_bind_outputs(AttentionParams& p, const TensorView& out, const TensorView* lse);
// Runs on the tensors' device.
void attention_run(const AttentionParams& p);

// Visible key range [lo, hi) for query rows [i0, i1): the union over the rows.
// Kernels use it to skip fully masked key blocks.
inline void attention_key_range(const AttentionParams& p, int64_t i0, int64_t i1, int64_t* lo, int64_t* hi) {
  const int64_t off = p.Nk - p.Nq;
  int64_t l = p.window_left < 0 ? 0 : i0 + off - p.window_left;
  int64_t h = p.window_right < 0 ? p.Nk : (i1 - 1) + off + p.window_right + 1;
  *lo = l < 0 ? 0 : l;
  *hi = h > p.Nk ? p.Nk : h;
  if (*hi < *lo) *hi = *lo;
}

}  // namespace subq
