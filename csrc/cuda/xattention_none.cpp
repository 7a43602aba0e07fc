// Stand-in for the CUDA XAttention kernels in builds without a CUDA compiler.
#include "../core/error.h"
#include "xattention.h"

namespace subq::cuda {

void xattention_scores(const XAttentionParams&) {
  runtime_error("this build of subquadratic has no CUDA backend (it was built without a CUDA compiler)");
}

}  // namespace subq::cuda
