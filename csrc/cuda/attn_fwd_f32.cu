// fp32 attention on the CUDA cores: the kernels of every listed head dim (head_dims.h),
// dense and block-sparse.
#include "attn_fwd_f32.cuh"
#include "head_dims.h"

namespace subq::cuda {

FwdKernel f32_kernel(int hd, bool sparse) {
  return HeadDims::with(hd, [&](auto d) {
    constexpr int HD = decltype(d)::value;
    return sparse ? fwd_f32_kernel<HD, true>() : fwd_f32_kernel<HD, false>();
  });
}

}  // namespace subq::cuda
