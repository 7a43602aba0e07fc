// The exact arithmetic the quantized kernels share with the CPU (cpu/quant.cpp): the
// integer rules of core/quant_rule.h, and fp32 / fp64 products and sums that nvcc may
// not contract into one fused rounding (it does by default).
#pragma once
#include "../core/quant_rule.h"
#include "numeric.cuh"

namespace subq::cuda {

// fp32 a * b and a + b, never fused into one rounding (nvcc contracts a * b + c).
SUBQ_DEVICE float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
SUBQ_DEVICE float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

// fp64 a * b and a + b, never fused (the CPU's smoothing terms are sums of products).
SUBQ_DEVICE double dmul_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
SUBQ_DEVICE double dadd_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}

}  // namespace subq::cuda
