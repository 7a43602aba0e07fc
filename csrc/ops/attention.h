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

#include "../core/attention_params.h"

namespace subq {

struct AttentionOptions {
  bool has_scale = false;
  double scale = 0;
  double softcap = 0;
  bool causal = false;
  int64_t window_left = -1, window_right = -1;
  bool return_lse = false;
  Layout layout = Layout::BHND;
};

// The checks every attention-family op makes on q and k: rank 4, float dtypes, one
// dtype and device, head dim 1..256, equal batch and head dim, query heads a multiple
// of kv heads (GQA).
void check_query_key(const TensorView& q, const TensorView& k, Layout layout);

// Views q and k as [B, H, N, D] and fills the dims every attention-family params has
// (B, Hq, Hkv, Nq, Nk, D), after check_query_key.
template <class Params>
void bind_query_key(Params& p, const TensorView& q, const TensorView& k, Layout layout) {
  p.layout = layout;
  p.q = as_bhnd(q, layout);
  p.k = as_bhnd(k, layout);
  p.B = p.q.shape[0];
  p.Hq = p.q.shape[1];
  p.Hkv = p.k.shape[1];
  p.Nq = p.q.shape[2];
  p.Nk = p.k.shape[2];
  p.D = p.q.shape[3];
}

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

}  // namespace subq
