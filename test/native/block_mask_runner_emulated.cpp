#include "../../csrc/cuda/block_mask_launch.h"
#include "block_mask_runner.h"

namespace subq::test {

void run_cuda_block_mask_compact(const BlockMaskParams& p) { cuda::block_mask_compact_launch(p, nullptr); }
void run_cuda_block_mask_expand(const BlockMaskExpandParams& p) { cuda::block_mask_expand_launch(p, nullptr); }

}  // namespace subq::test
