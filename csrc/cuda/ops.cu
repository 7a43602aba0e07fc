// The ops' entry points on CUDA: select the views' device, enqueue on its stream,
// and return when the work is done (async ops call these from a libuv worker, so
// waiting there never blocks the event loop).
#include "attn_launch.h"
#include "backend.h"
#include "merge_launch.h"
#include "runtime.h"

namespace subq::cuda {

// A split-KV call's workspace comes from the pool in stream order, so it is
// released right after the launch and reused only once the kernels are done.
void attention_enqueue(const AttentionParams& p) {
  const int dev = p.q.device.index;
  CUstream_st* s = stream(dev);
  const AttentionPlan plan = attention_plan(p);
  void* workspace = plan.workspace_bytes > 0 ? alloc(dev, size_t(plan.workspace_bytes)) : nullptr;
  try {
    attention_launch(p, plan, workspace, s);
  } catch (...) {
    release(dev, workspace);
    throw;
  }
  release(dev, workspace);
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
