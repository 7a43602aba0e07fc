// Host side of the CUDA XAttention kernels (xattn_scores.cu, xattn_select.cu). Views
// hold device pointers (host pointers under the SIMT emulator); CUstream_st* is
// cudaStream_t, so no CUDA header is needed.
#pragma once
#include "../core/xattention_params.h"
#include "../core/xattention_select.h"

struct CUstream_st;

namespace subq::cuda {

// Enqueues the scoring of p on `stream`: every element of p.scores is written.
void xattention_scores_launch(const XAttentionParams& p, CUstream_st* stream);

// Enqueues the selection of p on `stream`, reading the per-head thresholds from
// `thresholds` (device memory; p.thresholds is the host copy): every element of
// p.mask and p.counts is written.
void xattention_select_launch(const XSelectParams& p, const double* thresholds, CUstream_st* stream);

}  // namespace subq::cuda
