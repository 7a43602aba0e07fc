#include <cmath>
#include <vector>

#include "cuda_runner.h"

namespace subq::test {

void run_cuda_attention(const AttentionParams& p, const cuda::AttentionLaunchOptions& opt) {
  const cuda::AttentionPlan plan = cuda::attention_plan(p, opt);
  // NaN-filled, so partial results the kernels fail to write show up.
  std::vector<float> workspace(plan.workspace_bytes / sizeof(float) + 4, NAN);
  cuda::attention_launch(p, plan, workspace.data(), nullptr);
}

}  // namespace subq::test
