// XAttention scoring on CUDA: not written yet. The semantics a kernel must meet are in
// core/xattention_params.h; the CPU driver (cpu/xattention.cpp) is the reference.
#include "../core/error.h"
#include "xattention.h"

namespace subq::cuda {

void xattention_scores(const XAttentionParams&) {
  runtime_error("xattentionScores is not supported on CUDA tensors yet; use CPU tensors");
}

}  // namespace subq::cuda
