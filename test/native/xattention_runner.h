// Runs the CUDA XAttention kernels on views whose data live in host memory: under the
// SIMT emulator directly (xattention_runner_emulated.cpp), on a GPU by copying to the
// device and back (xattention_runner_device.cu).
#pragma once
#include "../../csrc/core/xattention_params.h"
#include "../../csrc/core/xattention_select.h"

namespace subq::test {
void run_cuda_xattention_scores(const XAttentionParams& p);
// p.thresholds is host memory; p.mask and p.counts are written.
void run_cuda_xattention_select(const XSelectParams& p);
}  // namespace subq::test
