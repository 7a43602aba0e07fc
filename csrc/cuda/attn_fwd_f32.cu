// fp32 attention on the CUDA cores, one kernel per padded head dim, dense and block-sparse.
#include "attn_fwd_f32.cuh"

namespace subq::cuda {
template FwdKernel fwd_f32_kernel<32, false>();
template FwdKernel fwd_f32_kernel<32, true>();
template FwdKernel fwd_f32_kernel<64, false>();
template FwdKernel fwd_f32_kernel<64, true>();
template FwdKernel fwd_f32_kernel<96, false>();
template FwdKernel fwd_f32_kernel<96, true>();
template FwdKernel fwd_f32_kernel<128, false>();
template FwdKernel fwd_f32_kernel<128, true>();
template FwdKernel fwd_f32_kernel<256, false>();
template FwdKernel fwd_f32_kernel<256, true>();
}  // namespace subq::cuda
