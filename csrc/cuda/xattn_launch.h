// Host side of the CUDA XAttention scoring kernel (xattn_scores.cu). Views hold
// device pointers (host pointers under the SIMT emulator); CUstream_st* is
// cudaStream_t, so no CUDA header is needed.
#pragma once
#include "../core/xattention_params.h"

struct CUstream_st;

namespace subq::cuda {

// Enqueues the scoring of p on `stream`: every element of p.scores is written.
void xattention_scores_launch(const XAttentionParams& p, CUstream_st* stream);

}  // namespace subq::cuda
