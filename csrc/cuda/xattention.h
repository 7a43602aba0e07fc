// CUDA entry points of XAttention scoring and selection; xattention_none.cpp stands in
// without CUDA.
#pragma once
#include "../core/xattention_params.h"
#include "../core/xattention_select.h"

namespace subq::cuda {

void xattention_scores(const XAttentionParams& p);
void xattention_select(const XSelectParams& p);

}  // namespace subq::cuda
