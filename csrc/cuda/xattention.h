// CUDA entry point of XAttention scoring; xattention_none.cpp stands in without CUDA.
#pragma once
#include "../core/xattention_params.h"

namespace subq::cuda {

void xattention_scores(const XAttentionParams& p);

}  // namespace subq::cuda
