// fp16 tensor-core attention, one kernel per padded head dim, and
// decode kernels (at most 16 rows per block row) for head dims padded to 64, 128, 256,
// and the block-sparse kernels.
#include "attn_fwd_tc.cuh"

namespace subq::cuda {
template FwdKernel fwd_tc_kernel<false, 32, false, false>();
template FwdKernel fwd_tc_kernel<false, 64, false, false>();
template FwdKernel fwd_tc_kernel<false, 96, false, false>();
template FwdKernel fwd_tc_kernel<false, 128, false, false>();
template FwdKernel fwd_tc_kernel<false, 256, false, false>();
template FwdKernel fwd_tc_kernel<false, 64, true, false>();
template FwdKernel fwd_tc_kernel<false, 128, true, false>();
template FwdKernel fwd_tc_kernel<false, 256, true, false>();
template FwdKernel fwd_tc_kernel<false, 32, false, true>();
template FwdKernel fwd_tc_kernel<false, 64, false, true>();
template FwdKernel fwd_tc_kernel<false, 96, false, true>();
template FwdKernel fwd_tc_kernel<false, 128, false, true>();
template FwdKernel fwd_tc_kernel<false, 256, false, true>();
}  // namespace subq::cuda
