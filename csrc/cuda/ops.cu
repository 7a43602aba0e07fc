// The ops' entry points on CUDA: select the views' device and enqueue on its
// stream; the call returns once the work is enqueued (runtime.h).
#include "attn_launch.h"
#include "backend.h"
#include "block_mask_launch.h"
#include "error.cuh"
#include "merge_launch.h"
#include "runtime.h"

namespace subq::cuda {

// A split-KV call's workspace comes from the pool in stream order, so it is
// released right after the launch and reused only once the kernels are done.
void attention(const AttentionParams& p) {
  const int dev = p.q.device.index;
  if (p.mask.dense.data) {
    // A uint8 mask: compacted on the device into buffers freed in stream order after the
    // attention kernels that read them; rows padded to every key block, as sizing them to
    // the widest row would wait for the device.
    AttentionParams c = p;
    const size_t rows = size_t(p.B * p.mask.Hm * p.mask.nqb);
    int32_t* lists = static_cast<int32_t*>(alloc(dev, rows * size_t(p.mask.nkb + 1) * sizeof(int32_t)));
    try {
      const BlockMaskParams bm = dense_mask_compaction(c.mask, p.B, p.mask.nkb, lists + rows, lists);
      launch_checked(dev, "blockSparseAttention", [&] { block_mask_compact_launch(bm, stream(dev)); });
      attention(c);
    } catch (...) {
      release(dev, lists);
      throw;
    }
    release(dev, lists);
    return;
  }
  CUstream_st* s = stream(dev);
  const AttentionPlan plan = attention_plan(p);
  void* workspace = plan.workspace_bytes > 0 ? alloc(dev, size_t(plan.workspace_bytes)) : nullptr;
  try {
    launch_checked(dev, "attention", [&] { attention_launch(p, plan, workspace, s); });
  } catch (...) {
    release(dev, workspace);
    throw;
  }
  release(dev, workspace);
}

void merge_states(const MergeParams& p) {
  const int dev = p.o1.device.index;
  launch_checked(dev, "mergeAttentionStates", [&] { merge_states_launch(p, stream(dev)); });
}

}  // namespace subq::cuda
