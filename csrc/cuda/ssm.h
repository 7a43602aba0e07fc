// CUDA entry points of the state-space family; ssm_none.cpp stands in without CUDA.
#pragma once
#include "../core/ssm_params.h"

namespace subq::cuda {

void selective_scan(const SelectiveScanParams& p);
void selective_state_update(const StateUpdateParams& p);
void causal_conv1d(const Conv1dParams& p);
void causal_conv1d_update(const Conv1dUpdateParams& p);

}  // namespace subq::cuda
