// Runs the CUDA merge kernel on views whose data live in host memory: under the
// SIMT emulator directly (merge_runner_emulated.cpp), on a GPU by copying to the
// device and back (merge_runner_device.cu).
#pragma once
#include "../../csrc/ops/merge.h"

namespace subq::test {
void run_cuda_merge(const MergeParams& p);
}
