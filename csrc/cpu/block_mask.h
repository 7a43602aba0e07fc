// CPU compaction of a uint8 block mask (rule: core/block_mask.h).
#pragma once
#include "../core/block_mask.h"

namespace subq::cpu {
void block_mask_compact(const BlockMaskParams& p);
}
