// fp16 tensor-core attention, one kernel per padded head dim, and
// decode kernels (at most 16 rows per block row) for head dims padded to 64, 128, 256.
#include "attn_fwd_tc.cuh"

namespace subq::cuda {
template void launch_fwd_tc<false, 32, false>(const FwdParams&, dim3, cudaStream_t);
template void launch_fwd_tc<false, 64, false>(const FwdParams&, dim3, cudaStream_t);
template void launch_fwd_tc<false, 96, false>(const FwdParams&, dim3, cudaStream_t);
template void launch_fwd_tc<false, 128, false>(const FwdParams&, dim3, cudaStream_t);
template void launch_fwd_tc<false, 256, false>(const FwdParams&, dim3, cudaStream_t);
template void launch_fwd_tc<false, 64, true>(const FwdParams&, dim3, cudaStream_t);
template void launch_fwd_tc<false, 128, true>(const FwdParams&, dim3, cudaStream_t);
template void launch_fwd_tc<false, 256, true>(const FwdParams&, dim3, cudaStream_t);
}  // namespace subq::cuda
