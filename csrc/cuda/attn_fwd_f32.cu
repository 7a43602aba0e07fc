// fp32 attention on the CUDA cores, one kernel per padded head dim.
#include "attn_fwd_f32.cuh"

namespace subq::cuda {
template FwdKernel fwd_f32_kernel<32>();
template FwdKernel fwd_f32_kernel<64>();
template FwdKernel fwd_f32_kernel<96>();
template FwdKernel fwd_f32_kernel<128>();
template FwdKernel fwd_f32_kernel<256>();
}  // namespace subq::cuda
