// CPU compaction of a uint8 block mask and its inverse (rule: core/block_mask.h).
#pragma once
#include "../core/block_mask.h"

namespace subq::cpu {
void block_mask_compact(const BlockMaskParams& p);
void block_mask_expand(const BlockMaskExpandParams& p);
}
