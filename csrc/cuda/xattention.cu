// XAttention scoring on CUDA: enqueue the scoring kernel on the device's stream and wait,
// as the other ops do (semantics: core/xattention_params.h).
#include "runtime.h"
#include "xattention.h"
#include "xattn_launch.h"

namespace subq::cuda {

void xattention_scores(const XAttentionParams& p) {
  use_device(p.q.device.index);
  xattention_scores_launch(p, stream(p.q.device.index));
  wait(p.q.device.index);
}

}  // namespace subq::cuda
