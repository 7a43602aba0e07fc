// Stand-in for the CUDA state-space kernels in builds without a CUDA compiler.
#include "../core/error.h"
#include "ssm.h"

namespace subq::cuda {

[[noreturn]] static void none() {
  runtime_error("this build of subquadratic has no CUDA backend (it was built without a CUDA compiler)");
}

void selective_scan(const SelectiveScanParams&) { none(); }
void selective_state_update(const StateUpdateParams&) { none(); }
void causal_conv1d(const Conv1dParams&) { none(); }
void causal_conv1d_update(const Conv1dUpdateParams&) { none(); }

}  // namespace subq::cuda
