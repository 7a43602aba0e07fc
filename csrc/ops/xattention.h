// XAttention block scores (antidiagonal estimate; semantics: core/xattention_params.h).
//   q [B, Hq, Nq, D], k [B, Hkv, Nk, D] (or [B, N, H, D] with Layout::BNHD), fp32 / fp16 /
//   bf16; query head h reads kv head h / (Hq / Hkv). Output: fp32 [B, Hq, nqb, nkb].
#pragma once
#include <cstdint>

#include "../core/xattention_params.h"

namespace subq {

struct XAttentionOptions {
  int64_t stride = 8;   // 4, 8 or 16
  int64_t block = 128;  // 64 or 128
  int64_t chunk = 0;    // 0: the backend's choice; else a positive multiple of block
  bool has_scale = false;
  double scale = 0;
  bool causal = false;
  Layout layout = Layout::BHND;
};

// Checks q, k and the options; fills everything but scores.
XAttentionParams xattention_prepare(const TensorView& q, const TensorView& k, const XAttentionOptions& opt);
void xattention_scores_shape(const XAttentionParams& p, int64_t shape[4]);
// Checks a caller-provided or freshly allocated output and binds it.
void xattention_bind_scores(XAttentionParams& p, const TensorView& scores);
// Runs on the tensors' device.
void xattention_scores_run(const XAttentionParams& p);

}  // namespace subq
