#include "../../csrc/cuda/merge_launch.h"
#include "merge_runner.h"

namespace subq::test {

void run_cuda_merge(const MergeParams& p) { cuda::merge_states_launch(p, nullptr); }

}  // namespace subq::test
