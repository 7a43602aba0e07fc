#pragma once
#include "../ops/merge.h"

namespace subq::cpu {
void merge_states(const MergeParams& p);
}
