// Device twin of xattention_runner_emulated.cpp: the same cases on a real GPU.
#include "../../csrc/cuda/xattn_launch.h"
#include "device_copy.h"
#include "xattention_runner.h"

namespace subq::test {

void run_cuda_xattention_scores(const XAttentionParams& p) {
  XAttentionParams d = p;
  DeviceCopy q(d.q), k(d.k), scores(d.scores);
  cuda::xattention_scores_launch(d, nullptr);
  cuda_ok(cudaDeviceSynchronize(), "XAttention scoring kernel");
  scores.back();
}

void run_cuda_xattention_select(const XSelectParams& p) {
  XSelectParams d = p;
  TensorView th;  // the per-head thresholds as a view, to copy them like the tensors
  th.data = const_cast<double*>(p.thresholds), th.dtype = DType::I32, th.capacity = 2 * p.H;
  DeviceCopy scores(d.scores), mask(d.mask), counts(d.counts), thresholds(th);
  cuda::xattention_select_launch(d, static_cast<const double*>(th.data), nullptr);
  cuda_ok(cudaDeviceSynchronize(), "XAttention selection kernel");
  mask.back();
  counts.back();
}

}  // namespace subq::test
