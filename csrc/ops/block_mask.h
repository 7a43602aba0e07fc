// A uint8 block mask [B, Hs, nqb, nkb] to its compact form (rule: core/block_mask.h) on
// the CPU or a CUDA device: indices int32 [B, Hm, nqb, max_k], counts int32 [B, Hm, nqb],
// optionally the kept blocks as a uint8 mask [B, Hm, nqb, nkb] and per row the kept
// blocks below the visible end, all on the mask's device. Hm = Hs / group. And back.
#pragma once
#include <cstdint>
#include <vector>

#include "../core/block_mask.h"
#include "xattention.h"

namespace subq {

struct BlockMaskOptions {
  int64_t group = 1;                  // GQA union pooling of `group` consecutive heads
  int64_t block = 0, Nq = 0, Nk = 0;  // the token diagonal, when block > 0
  bool causal = false;                // visible blocks for `visible` (xattention's densities)
  bool pad_to_key_blocks = false;     // max_k = nkb (no read-back) instead of the widest row
};

// Checks the mask and the options; fills everything but the outputs and max_k.
BlockMaskParams block_mask_prepare(const TensorView& mask, const BlockMaskOptions& opt);
// [B, Hm, nqb, nkb] of out_mask, and [B, Hm, nqb] of counts and visible.
void block_mask_shapes(const BlockMaskParams& p, int64_t mask[4], int64_t rows[3]);
// Checks freshly allocated outputs and binds them; out_mask, indices and visible may be
// null (indices null: not yet sized).
void block_mask_bind(BlockMaskParams& p, const TensorView* out_mask, const TensorView* indices, const TensorView& counts,
                     const TensorView* visible);
// Sets p.max_k: nkb with pad_to_key_blocks, else the widest row (at least 1), from a
// counting pass into p.counts (a CUDA call waits for one int to come back).
void block_mask_size(BlockMaskParams& p, const BlockMaskOptions& opt);
// Runs on the mask's device.
void block_mask_run(const BlockMaskParams& p);
// Per mask head, over batch and rows: kept blocks below the visible end and visible
// blocks (a CUDA call waits for the run and reads back p.visible).
BlockTotals block_mask_totals(const BlockMaskParams& p);

// The way back: the uint8 mask [B, Hm, nqb, nkb] of a compact form (indices int32
// [B, Hm, nqb, max_k], counts int32 [B, Hm, nqb], on one device). The counts and ids are
// checked on the host (a CUDA call reads them back): counts in [0, max_k], ids in [0, nkb).
BlockMaskExpandParams block_mask_expand_prepare(const TensorView& indices, const TensorView& counts, int64_t nkb);
void block_mask_expand_shape(const BlockMaskExpandParams& p, int64_t mask[4]);
void block_mask_expand_bind(BlockMaskExpandParams& p, const TensorView& mask);
void block_mask_expand_run(const BlockMaskExpandParams& p);

}  // namespace subq
