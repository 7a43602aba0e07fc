// Stand-in for the CUDA XAttention kernels in builds without a CUDA compiler.
#include "runtime.h"
#include "xattention.h"

namespace subq::cuda {

void xattention_scores(const XAttentionParams&) { no_cuda(); }
void xattention_select(const XSelectParams&) { no_cuda(); }

}  // namespace subq::cuda
