// XAttention phases in ymm with AVX2 + FMA.
#include "vec_avx2.h"
#include "xattention_simd.h"

namespace subq::cpu {

namespace {
constexpr XAttentionKernels kAvx2 = xattention_kernels_for<VecAvx2>();
}

const XAttentionKernels& xattention_kernels_avx2() { return kAvx2; }

}  // namespace subq::cpu
