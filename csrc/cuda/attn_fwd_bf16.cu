// bf16 tensor-core attention, one kernel per padded head dim.
#include "attn_fwd_tc.cuh"

namespace subq::cuda {
template void launch_fwd_tc<true, 32>(const FwdParams&, dim3, cudaStream_t);
template void launch_fwd_tc<true, 64>(const FwdParams&, dim3, cudaStream_t);
template void launch_fwd_tc<true, 96>(const FwdParams&, dim3, cudaStream_t);
template void launch_fwd_tc<true, 128>(const FwdParams&, dim3, cudaStream_t);
template void launch_fwd_tc<true, 256>(const FwdParams&, dim3, cudaStream_t);
}  // namespace subq::cuda
