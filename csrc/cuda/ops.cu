// The ops' entry points on CUDA: select the views' device, enqueue on its stream,
// and return when the work is done (async ops call these from a libuv worker, so
// waiting there never blocks the event loop).
#include "../core/error.h"
#include "backend.h"
#include "merge_launch.h"
#include "runtime.h"

namespace subq::cuda {

void attention_enqueue(const AttentionParams& p) {
  use_device(p.q.device.index);
  runtime_error("CUDA attention kernels are not part of this build yet");
}

void attention(const AttentionParams& p) {
  attention_enqueue(p);
  wait(p.q.device.index);
}

void merge_states_enqueue(const MergeParams& p) { merge_states_launch(p, stream(p.o1.device.index)); }

void merge_states(const MergeParams& p) {
  merge_states_enqueue(p);
  wait(p.o1.device.index);
}

}  // namespace subq::cuda
