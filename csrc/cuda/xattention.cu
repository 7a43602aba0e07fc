// XAttention scoring on CUDA: enqueue the scoring kernel on the device's stream and
// return, as the other ops do (semantics: core/xattention_params.h).
#include "error.cuh"
#include "runtime.h"
#include "xattention.h"
#include "xattn_launch.h"

namespace subq::cuda {

void xattention_scores(const XAttentionParams& p) {
  const int dev = p.q.device.index;
  launch_checked(dev, "xattentionScores", [&] { xattention_scores_launch(p, stream(dev)); });
}

}  // namespace subq::cuda
