// Device twin of merge_runner_emulated.cpp: the same cases on a real GPU.
#include "../../csrc/cuda/merge_launch.h"
#include "device_copy.h"
#include "merge_runner.h"

namespace subq::test {

void run_cuda_merge(const MergeParams& p) {
  MergeParams d = p;
  DeviceCopy o1(d.o1), o2(d.o2), l1(d.lse1), l2(d.lse2), out(d.out), lse(d.lse);
  cuda::merge_states_launch(d, nullptr);
  cuda_ok(cudaDeviceSynchronize(), "merge kernel");
  out.back();
  lse.back();
}

}  // namespace subq::test
