// XAttention block scores (antidiagonal estimate; semantics: core/xattention_params.h).
//   q [B, Hq, Nq, D], k [B, Hkv, Nk, D] (or [B, N, H, D] with Layout::BNHD), fp32 / fp16 /
//   bf16; query head h reads kv head h / (Hq / Hkv). Output: fp32 [B, Hq, nqb, nkb].
#pragma once
#include <cstdint>
#include <vector>

#include "../core/xattention_params.h"
#include "../core/xattention_select.h"

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

// XAttention block selection (rule: core/xattention_select.h) of fp32 scores
// [B, H, nqb, nkb] on the CPU or a CUDA device: a uint8 mask of the same shape and the
// int32 kept count of each row [B, H, nqb], both on the scores' device.
struct XSelectOptions {
  std::vector<double> thresholds;  // one for all heads (per_head false) or one per head
  bool per_head = false;
  std::vector<double> per_head_values;  // filled by xattention_select_prepare: one per head
  bool causal = false, keep_sink = true, keep_recent = true;
};

// Checks scores and the options; fills everything but mask and counts. p.thresholds
// points into opt.per_head_values, so opt must outlive p.
XSelectParams xattention_select_prepare(const TensorView& scores, XSelectOptions& opt);
void xattention_select_shapes(const XSelectParams& p, int64_t mask[4], int64_t counts[3]);
// Checks freshly allocated (or caller-provided) outputs and binds them.
void xattention_bind_select(XSelectParams& p, const TensorView& mask, const TensorView& counts);
// Runs on the scores' device.
void xattention_select_run(const XSelectParams& p);
// Kept and visible key blocks per head, over batch and rows, from kept blocks per row
// (int32 [B, H, nqb]; a CUDA tensor is read back, waiting for the work that writes it):
// the numerator and denominator of a mask's densities.
struct BlockTotals {
  std::vector<int64_t> kept, visible;
};
BlockTotals block_totals(const TensorView& kept_per_row, int64_t H, int64_t nqb, int64_t nkb, bool causal);
// The selection's totals after a run.
BlockTotals xattention_select_totals(const XSelectParams& p);

}  // namespace subq
