// Host side of the merge kernel: enqueues it on `stream` (views hold device pointers).
#pragma once
#include "../core/merge_params.h"

struct CUstream_st;

namespace subq::cuda {
void merge_states_launch(const MergeParams& p, CUstream_st* stream);
}
