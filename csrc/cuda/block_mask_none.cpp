// Stand-in for the CUDA block-mask compaction and expansion in builds without a CUDA compiler.
#include "block_mask.h"
#include "runtime.h"

namespace subq::cuda {

void block_mask_compact(const BlockMaskParams&) { no_cuda(); }
int64_t block_mask_widest(const BlockMaskParams&) { no_cuda(); }
void block_mask_expand(const BlockMaskExpandParams&) { no_cuda(); }

}  // namespace subq::cuda
