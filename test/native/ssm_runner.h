// Runs the CUDA state-space kernels on views whose data live in host memory: under the
// SIMT emulator (ssm_runner_emulated.cpp) or on a GPU through csrc/cuda/ssm.cu after
// copying the views to the device (ssm_runner_device.cu).
#pragma once
#include "../../csrc/ops/ssm.h"

namespace subq::test {
void run_cuda_selective_scan(const SelectiveScanParams& p);
void run_cuda_state_update(const StateUpdateParams& p);
void run_cuda_conv1d(const Conv1dParams& p);
void run_cuda_conv1d_update(const Conv1dUpdateParams& p);
}  // namespace subq::test
