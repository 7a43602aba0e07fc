// The exact arithmetic the quantized kernels share with the CPU (cpu/quant.cpp): the
// integer rules of core/quant_rule.h, and fp32 / fp64 products and sums that nvcc may
// not contract into one fused rounding (it does by default).
#pragma once
#include "../core/quant_rule.h"
#include "numeric.cuh"

namespace subq::cuda {

// a * b and a + b in fp32 or fp64, each rounded on its own: never fused into one
// rounding (nvcc contracts a * b + c by default; the CPU's sums of products are not).
template <class T>
SUBQ_DEVICE T mul_rn(T a, T b) {
#if defined(__CUDA_ARCH__)
  if constexpr (sizeof(T) == 8) return __dmul_rn(a, b);
  else return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
template <class T>
SUBQ_DEVICE T add_rn(T a, T b) {
#if defined(__CUDA_ARCH__)
  if constexpr (sizeof(T) == 8) return __dadd_rn(a, b);
  else return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

}  // namespace subq::cuda
