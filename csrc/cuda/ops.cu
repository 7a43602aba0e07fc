// The ops' entry points on CUDA: select the views' device, enqueue on its stream,
// and return when the work is done (async ops call these from a libuv worker, so
// waiting there never blocks the event loop).
#include "../core/error.h"
#include "backend.h"
#include "merge_launch.h"
#include "runtime.h"

namespace subq::cuda {

void attention(const AttentionParams& p) {
  use_device(p.q.device.index);
  runtime_error("CUDA attention kernels are not part of this build yet");
}

void merge_states(const MergeParams& p) {
  const int dev = p.o1.device.index;
  merge_states_launch(p, stream(dev));
  wait(dev);
}

}  // namespace subq::cuda
