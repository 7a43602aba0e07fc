// Runs the CUDA attention kernels on views whose data live in host memory: under
// the SIMT emulator directly (cuda_runner_emulated.cpp), on a GPU by copying to
// the device and back (cuda_runner_device.cu).
#pragma once
#include "../../csrc/cuda/attn_launch.h"

namespace subq::test {
void run_cuda_attention(const AttentionParams& p, const cuda::AttentionLaunchOptions& opt);
}
