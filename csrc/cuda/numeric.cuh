// Scalar helpers shared by the kernels: 16-bit float bits <-> fp32, packing two
// values into one 32-bit mma register, and exp2. fp16/bf16 live as raw uint16_t
// bits, so the kernels need no CUDA header and compile under the SIMT emulator.
#pragma once
#include <cstdint>

#include "../simt/simt.h"
#if SIMT_EMULATED
#include "../core/half.h"
#endif

#define SUBQ_DEVICE __device__ __forceinline__

namespace subq::cuda {

enum class Elem { F32, F16, BF16 };

template <bool BF16>
SUBQ_DEVICE float half_bits_to_float(uint16_t h) {
#if defined(__CUDA_ARCH__)
  if constexpr (BF16) return __uint_as_float(uint32_t(h) << 16);
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
  return f;
#elif SIMT_EMULATED
  return BF16 ? bf16_to_f32(h) : f16_to_f32(h);
#else
  return 0.f;  // nvcc's host pass: device-only code
#endif
}

template <bool BF16>
SUBQ_DEVICE uint16_t float_to_half_bits(float f) {
#if defined(__CUDA_ARCH__)
  uint16_t h;
  if constexpr (BF16) asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(h) : "f"(f));
  else asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
  return h;
#elif SIMT_EMULATED
  return BF16 ? f32_to_bf16(f) : f32_to_f16(f);
#else
  return 0;
#endif
}

// {lo, hi} -> one register; lo is the element with the lower column index.
template <bool BF16>
SUBQ_DEVICE uint32_t pack_half2(float lo, float hi) {
#if defined(__CUDA_ARCH__)
  uint32_t r;
  if constexpr (BF16) asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  else asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
#else
  return uint32_t(float_to_half_bits<BF16>(lo)) | uint32_t(float_to_half_bits<BF16>(hi)) << 16;
#endif
}

// 2^x; exp2(-inf) = 0.
SUBQ_DEVICE float fast_exp2(float x) {
#if defined(__CUDA_ARCH__)
  float r;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(x));
  return r;
#else
  return exp2f(x);
#endif
}

template <Elem E>
SUBQ_DEVICE float load_elem(const void* base, int64_t i) {
  if constexpr (E == Elem::F32) return static_cast<const float*>(base)[i];
  else return half_bits_to_float<E == Elem::BF16>(static_cast<const uint16_t*>(base)[i]);
}

template <Elem E>
SUBQ_DEVICE void store_elem(void* base, int64_t i, float v) {
  if constexpr (E == Elem::F32) static_cast<float*>(base)[i] = v;
  else static_cast<uint16_t*>(base)[i] = float_to_half_bits<E == Elem::BF16>(v);
}

}  // namespace subq::cuda
