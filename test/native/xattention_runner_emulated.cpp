#include "../../csrc/cuda/xattn_launch.h"
#include "xattention_runner.h"

namespace subq::test {

void run_cuda_xattention_scores(const XAttentionParams& p) { cuda::xattention_scores_launch(p, nullptr); }
void run_cuda_xattention_select(const XSelectParams& p) { cuda::xattention_select_launch(p, p.thresholds, nullptr); }

}  // namespace subq::test
