// Block-sparse attention: dense attention (ops/attention.h) restricted to the key blocks
// each query block lists, as Block-Sparse-Attention defines it. Blocks are `block` (64 or
// 128) tokens on both sides. Which blocks query head h reads depends on its mode:
//   dense      every key block;
//   streaming  the sink blocks [0, sink) and the `local` key blocks ending at the query
//              block's diagonal block (the block of the key aligned with its last row);
//   masked     indices[b, h / (Hq / Hm), qb, 0 .. counts[b, h / (Hq / Hm), qb]),
//              ascending key-block ids, Hm = Hq, Hkv or 1.
// The dense rule (causal, window, bottom-right aligned) applies on top; a row that sees
// no key gives 0 and LSE -inf, as dense attention does.
#pragma once
#include <cstdint>

#include "attention.h"

namespace subq {

struct BlockSparseOptions {
  int64_t block = 128;
  int64_t sink_blocks = 0, local_blocks = 0;  // streaming heads
  int64_t mask_key_blocks = -1;  // the uint8 mask's width when the caller gave that form
};

// Checks the mask pieces against prepared params and binds them into p.mask.
// indices int32 [B, Hm, nqb, max_k] and counts int32 [B, Hm, nqb] may be null only when
// no head is masked; head_modes uint8 [Hq] of HeadMode may be null (every head masked).
// The lists are read (on the host: a CUDA call copies them back) and must be ascending
// and in range. Instead of indices and counts, `dense` may give the mask itself, uint8
// [B, Hm, nqb, nkb] on q's device (nonzero: the block is read): the backend compacts it
// on its device (core/block_mask.h), and nothing of it is read here.
void block_sparse_bind_mask(AttentionParams& p, const TensorView* indices, const TensorView* counts,
                            const TensorView* head_modes, const BlockSparseOptions& opt,
                            const TensorView* dense = nullptr);

}  // namespace subq
