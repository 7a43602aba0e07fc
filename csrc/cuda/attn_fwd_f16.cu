// fp16 tensor-core attention, one kernel per padded head dim.
#include "attn_fwd_tc.cuh"

namespace subq::cuda {
template void launch_fwd_tc<false, 32>(const FwdParams&, dim3, cudaStream_t);
template void launch_fwd_tc<false, 64>(const FwdParams&, dim3, cudaStream_t);
template void launch_fwd_tc<false, 96>(const FwdParams&, dim3, cudaStream_t);
template void launch_fwd_tc<false, 128>(const FwdParams&, dim3, cudaStream_t);
template void launch_fwd_tc<false, 256>(const FwdParams&, dim3, cudaStream_t);
}  // namespace subq::cuda
