#pragma once
#include "../core/merge_params.h"

namespace subq::cpu {
void merge_states(const MergeParams& p);
}
