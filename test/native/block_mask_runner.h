// Runs the CUDA block-mask compaction on views whose data live in host memory: under the
// SIMT emulator directly (block_mask_runner_emulated.cpp), on a GPU by copying to the
// device and back (block_mask_runner_device.cu).
#pragma once
#include "../../csrc/core/block_mask.h"

namespace subq::test {
// p.max_count, when set, is host memory; every output with data is written.
void run_cuda_block_mask_compact(const BlockMaskParams& p);
void run_cuda_block_mask_expand(const BlockMaskExpandParams& p);
}  // namespace subq::test
