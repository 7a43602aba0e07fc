// fp16 tensor-core attention, one kernel per padded head dim, and
// decode kernels (at most 16 rows per block row) for head dims padded to 64, 128, 256,
// and the block-sparse kernels (64-row mask blocks; 128-row ones but at head dim 256,
// where the 64-row tile serves both).
#include "attn_fwd_tc.cuh"

namespace subq::cuda {
template FwdKernel fwd_tc_kernel<false, 32, false, 0>();
template FwdKernel fwd_tc_kernel<false, 64, false, 0>();
template FwdKernel fwd_tc_kernel<false, 96, false, 0>();
template FwdKernel fwd_tc_kernel<false, 128, false, 0>();
template FwdKernel fwd_tc_kernel<false, 256, false, 0>();
template FwdKernel fwd_tc_kernel<false, 64, true, 0>();
template FwdKernel fwd_tc_kernel<false, 128, true, 0>();
template FwdKernel fwd_tc_kernel<false, 256, true, 0>();
template FwdKernel fwd_tc_kernel<false, 32, false, 64>();
template FwdKernel fwd_tc_kernel<false, 32, false, 128>();
template FwdKernel fwd_tc_kernel<false, 64, false, 64>();
template FwdKernel fwd_tc_kernel<false, 64, false, 128>();
template FwdKernel fwd_tc_kernel<false, 96, false, 64>();
template FwdKernel fwd_tc_kernel<false, 96, false, 128>();
template FwdKernel fwd_tc_kernel<false, 128, false, 64>();
template FwdKernel fwd_tc_kernel<false, 128, false, 128>();
template FwdKernel fwd_tc_kernel<false, 256, false, 64>();
}  // namespace subq::cuda
