// XAttention scoring and selection on CUDA: enqueue the kernels on the device's stream
// and return, as the other ops do (semantics: core/xattention_params.h,
// core/xattention_select.h).
#include <vector>

#include "device_table.h"
#include "error.cuh"
#include "runtime.h"
#include "xattention.h"
#include "xattn_launch.h"

namespace subq::cuda {

void xattention_scores(const XAttentionParams& p) {
  const int dev = p.q.device.index;
  launch_checked(dev, "xattentionScores", [&] { xattention_scores_launch(p, stream(dev)); });
}

void xattention_select(const XSelectParams& p) {
  const int dev = p.scores.device.index;
  launch_checked(dev, "xattentionMask", [&] {
    const DeviceTable thresholds(dev, std::vector<double>(p.thresholds, p.thresholds + p.H));
    xattention_select_launch(p, thresholds.get(), stream(dev));
  });
}

}  // namespace subq::cuda
