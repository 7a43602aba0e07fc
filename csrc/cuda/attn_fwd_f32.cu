// fp32 attention on the CUDA cores, one kernel per padded head dim.
#include "attn_fwd_f32.cuh"

namespace subq::cuda {
template void launch_fwd_f32<32>(const FwdParams&, dim3, cudaStream_t);
template void launch_fwd_f32<64>(const FwdParams&, dim3, cudaStream_t);
template void launch_fwd_f32<96>(const FwdParams&, dim3, cudaStream_t);
template void launch_fwd_f32<128>(const FwdParams&, dim3, cudaStream_t);
template void launch_fwd_f32<256>(const FwdParams&, dim3, cudaStream_t);
}  // namespace subq::cuda
