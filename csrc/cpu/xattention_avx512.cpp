// XAttention phases in zmm and in ymm with AVX-512VL.
#include "vec_avx512.h"
#include "xattention_simd.h"

namespace subq::cpu {

namespace {
constexpr XAttentionKernels kZmm = xattention_kernels_for<VecZmm>();
constexpr XAttentionKernels kYmm = xattention_kernels_for<VecYmm>();
}  // namespace

const XAttentionKernels& xattention_kernels_avx512_zmm() { return kZmm; }
const XAttentionKernels& xattention_kernels_avx512_ymm() { return kYmm; }

}  // namespace subq::cpu
