// What an attention kernel reads, on any backend: views already normalised to
// [B, H, N, D] order, the scalar options folded in, and (for block-sparse calls) the
// key blocks each query block may read. ops/attention.cpp and ops/sparse.cpp check the
// caller's arguments and fill these; kernels trust them. No validation lives here.
//
// Visibility (FlashAttention's rule, docs/semantics.md): key j is visible to query i when
//     i + Nk - Nq - left <= j <= i + Nk - Nq + right      (left/right = -1: unlimited)
// and, with a block mask, when j's key block is listed for i's query block.
#pragma once
#include <algorithm>
#include <cstdint>

#include "block_mask.h"
#include "layout.h"
#include "tensor.h"

namespace subq {

// Per query head kinds of a block-sparse call (Block-Sparse-Attention's head mask types).
enum class HeadMode : uint8_t {
  Dense = 0,      // every key block
  Streaming = 1,  // sink blocks [0, sink) and the local blocks ending at the query block's diagonal
  Masked = 2,     // the key blocks the index lists give
};

// The block-sparse seam: which key blocks each query block reads. Blocks are `block`
// tokens on both sides: query block qb holds rows [qb*block, min((qb+1)*block, Nq)), key
// block kb keys [kb*block, min((kb+1)*block, Nk)). block == 0 means dense attention.
// The views live on the call's device; every list is ascending and in range (ops/ checks).
struct BlockMask {
  int64_t block = 0;
  int64_t nqb = 0, nkb = 0;  // ceil(Nq / block), ceil(Nk / block)
  int64_t Hm = 0;            // mask heads: Hq, Hkv or 1; query head h reads mask head h / (Hq / Hm)
  TensorView indices;        // int32 [B, Hm, nqb, max_k]: key-block ids, ascending
  TensorView counts;         // int32 [B, Hm, nqb]: how many of each row's ids are used
  TensorView dense;          // uint8 [B, Hm, nqb, nkb] when given uncompacted (indices and counts
                             // then unset): the backend compacts it on its device first
  TensorView head_modes;     // uint8 [Hq] of HeadMode, or no data: every head Masked
  int64_t sink_blocks = 0, local_blocks = 0;  // Streaming heads

  bool active() const { return block > 0; }
  // Streaming heads: query block qb's diagonal key block is the one holding the key
  // aligned with the block's last row (bottom-right alignment, as causal).
  int64_t diagonal_block(int64_t qb, int64_t Nq, int64_t Nk) const { return bmask::token_diagonal(qb, block, Nq, Nk); }
};

// The compaction of m.dense (core/block_mask.h) into contiguous int32 buffers on its
// device, indices B * Hm * nqb * max_k (rows padded to max_k ids; null: a counting pass)
// and counts B * Hm * nqb, which become m.indices and m.counts.
inline BlockMaskParams dense_mask_compaction(BlockMask& m, int64_t B, int64_t max_k, int32_t* indices, int32_t* counts) {
  BlockMaskParams c;
  c.mask = m.dense;
  c.B = B, c.Hm = m.Hm, c.nqb = m.nqb, c.nkb = m.nkb, c.max_k = max_k;
  const int64_t shape[4] = {B, m.Hm, m.nqb, max_k};
  c.counts = m.counts = contiguous_view(counts, DType::I32, m.dense.device, shape, 3);
  if (indices) c.indices = m.indices = contiguous_view(indices, DType::I32, m.dense.device, shape, 4);
  m.dense = TensorView{};
  return c;
}

struct QuantQK;  // core/quant_params.h

// Views are normalised to [B, H, N, D] order (strides permuted, no copy).
struct AttentionParams {
  TensorView q, k, v, out, lse;  // lse.data == nullptr unless requested
  int64_t B = 0, Hq = 0, Hkv = 0, Nq = 0, Nk = 0, D = 0, Dv = 0;
  float scale = 1, softcap = 0;
  int64_t window_left = -1, window_right = -1;  // causal already folded into right = 0
  Layout layout = Layout::BHND;
  BlockMask mask;  // inactive for dense attention
  const QuantQK* quant = nullptr;  // quantizedAttention: integer Q.K^T (CPU driver only)
};

// Visible key range [lo, hi) for query rows [i0, i1): the union over the rows of the
// visibility rule above (the mask aside). Kernels skip key blocks outside it.
inline void attention_key_range(const AttentionParams& p, int64_t i0, int64_t i1, int64_t* lo, int64_t* hi) {
  const int64_t off = p.Nk - p.Nq;
  int64_t l = p.window_left < 0 ? 0 : i0 + off - p.window_left;
  int64_t h = p.window_right < 0 ? p.Nk : (i1 - 1) + off + p.window_right + 1;
  *lo = l < 0 ? 0 : l;
  *hi = h > p.Nk ? p.Nk : h;
  if (*hi < *lo) *hi = *lo;
}

}  // namespace subq
