// Whether causalConv1d writes its output with streaming (non-temporal) stores: for large
// fp32 outputs a planner choice per activation (planner.h), measured on this machine.
#pragma once
#include "../core/ssm_params.h"

namespace subq::cpu {

bool conv1d_stream(const Conv1dParams& p);

}  // namespace subq::cpu
