// bf16 tensor-core attention: the dense, decode and block-sparse kernels of every
// listed head dim (head_dims.h; tc_kernel in attn_fwd_tc.cuh).
#include "attn_fwd_tc.cuh"

namespace subq::cuda {
template FwdKernel tc_kernel<true>(int hd, bool decode, int sparse);
}  // namespace subq::cuda
