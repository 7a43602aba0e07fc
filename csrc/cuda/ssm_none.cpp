// Stand-in for the CUDA state-space kernels in builds without a CUDA compiler.
#include "runtime.h"
#include "ssm.h"

namespace subq::cuda {

void selective_scan(const SelectiveScanParams&) { no_cuda(); }
void selective_state_update(const StateUpdateParams&) { no_cuda(); }
void causal_conv1d(const Conv1dParams&) { no_cuda(); }
void causal_conv1d_update(const Conv1dUpdateParams&) { no_cuda(); }

}  // namespace subq::cuda
