// The element types of the CUDA kernels, written once for every family: fp32, and
// fp16 / bf16 kept as raw uint16_t bits, so the kernels need no CUDA header and compile
// under the SIMT emulator. Conversions are PTX on the device and core/half.h under the
// emulator. Also: packing two values into one 32-bit mma register, and exp2.
#pragma once
#include <cstdint>
#include <type_traits>

#include "../core/dtype.h"
#include "../simt/simt.h"
#if SIMT_EMULATED
#include "../core/half.h"
#endif

#define SUBQ_DEVICE __device__ __forceinline__

namespace subq::cuda {

enum class Elem { F32, F16, BF16 };

// The storage type of an element: float, or the 16-bit pattern.
template <Elem E>
using elem_t = std::conditional_t<E == Elem::F32, float, uint16_t>;

// The kernel element type of a float dtype (validated before any kernel runs).
constexpr Elem elem_of(DType t) { return t == DType::F16 ? Elem::F16 : t == DType::BF16 ? Elem::BF16 : Elem::F32; }

// Calls f(std::integral_constant<Elem, E>{}) for the element type E of dtype t: the one
// place a launch turns a run-time dtype into a kernel's template argument.
template <class F>
decltype(auto) with_elem(DType t, F&& f) {
  switch (elem_of(t)) {
    case Elem::F16: return f(std::integral_constant<Elem, Elem::F16>{});
    case Elem::BF16: return f(std::integral_constant<Elem, Elem::BF16>{});
    default: return f(std::integral_constant<Elem, Elem::F32>{});
  }
}

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

// One element to fp32 and back (round to nearest even).
template <Elem E>
SUBQ_DEVICE float to_float(elem_t<E> v) {
  if constexpr (E == Elem::F32) return v;
  else return half_bits_to_float<E == Elem::BF16>(v);
}

template <Elem E>
SUBQ_DEVICE elem_t<E> from_float(float v) {
  if constexpr (E == Elem::F32) return v;
  else return float_to_half_bits<E == Elem::BF16>(v);
}

template <Elem E>
SUBQ_DEVICE float load_elem(const void* base, int64_t i) {
  return to_float<E>(static_cast<const elem_t<E>*>(base)[i]);
}

template <Elem E>
SUBQ_DEVICE void store_elem(void* base, int64_t i, float v) {
  static_cast<elem_t<E>*>(base)[i] = from_float<E>(v);
}

// A tensor whose element type is known only at run time, for scattered loads of
// operands that may differ from the kernel's element type (the SSM's B, C, weights).
struct ElemPtr {
  const void* p = nullptr;
  Elem elem = Elem::F32;
};

SUBQ_DEVICE float load(ElemPtr a, int64_t i) {
  if (a.elem == Elem::F32) return static_cast<const float*>(a.p)[i];
  const uint16_t h = static_cast<const uint16_t*>(a.p)[i];
  return a.elem == Elem::F16 ? half_bits_to_float<false>(h) : half_bits_to_float<true>(h);
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

// 2^x in one instruction on the device (ex2.approx: about 2 ulp, results below 2^-126
// flush to 0, which softmax weights and decay factors tolerate); exp2(-inf) = 0.
// libm's exp2f under the emulator.
SUBQ_DEVICE float fast_exp2(float x) {
#if defined(__CUDA_ARCH__)
  float r;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(x));
  return r;
#else
  return exp2f(x);
#endif
}

}  // namespace subq::cuda
