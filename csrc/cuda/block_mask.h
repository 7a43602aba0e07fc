// CUDA entry points of the block-mask compaction (rule: core/block_mask.h);
// block_mask_none.cpp stands in without CUDA.
#pragma once
#include <cstdint>

#include "../core/block_mask.h"

namespace subq::cuda {

// Enqueues the compaction of p on its device's stream.
void block_mask_compact(const BlockMaskParams& p);
// A counting pass of p (p.indices and p.out_mask unused, p.counts written): the widest
// row's count, read back (the call waits for it).
int64_t block_mask_widest(const BlockMaskParams& p);
// Enqueues the expansion of p (compact form to uint8 mask) on its device's stream.
void block_mask_expand(const BlockMaskExpandParams& p);

}  // namespace subq::cuda
