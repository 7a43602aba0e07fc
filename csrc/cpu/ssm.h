// CPU kernels of the state-space family (see ops/ssm.h for the semantics).
#pragma once
#include <string>

#include "../ops/ssm.h"

namespace subq::cpu {

void selective_scan(const SelectiveScanParams& p);
void selective_state_update(const StateUpdateParams& p);
void causal_conv1d(const Conv1dParams& p);
void causal_conv1d_update(const Conv1dUpdateParams& p);

// The vector form the kernels use: "zmm" or "ymm" at the AVX-512 level (chosen by a
// one-off timing unless forced), "avx2" or "scalar" below it. force: "zmm", "ymm" or
// "auto"; returns the name in effect.
std::string ssm_vector(const std::string& force = "");

}  // namespace subq::cpu
