// Split-KV combine kernels, one per output element type.
#include "attn_combine.cuh"

namespace subq::cuda {
template void launch_combine<Elem::F32>(const FwdParams&, cudaStream_t);
template void launch_combine<Elem::F16>(const FwdParams&, cudaStream_t);
template void launch_combine<Elem::BF16>(const FwdParams&, cudaStream_t);
}  // namespace subq::cuda
