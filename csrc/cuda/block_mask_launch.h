// Host side of the CUDA block-mask compaction and expansion (block_mask_kernel.cu). Views hold device
// pointers (host pointers under the SIMT emulator); CUstream_st* is cudaStream_t, so no
// CUDA header is needed.
#pragma once
#include "../core/block_mask.h"

struct CUstream_st;

namespace subq::cuda {

// Enqueues the compaction of p on `stream` (rule: core/block_mask.h): every element of
// p.counts and of p.indices, p.out_mask and p.visible when they have data is written;
// *p.max_count (device memory) is raised to the widest row's count when set.
void block_mask_compact_launch(const BlockMaskParams& p, CUstream_st* stream);

// Enqueues the expansion of p on `stream`: every element of p.mask is written.
void block_mask_expand_launch(const BlockMaskExpandParams& p, CUstream_st* stream);

}  // namespace subq::cuda
