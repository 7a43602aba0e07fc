// On AVX-512 CPUs: 512-bit (zmm) or 256-bit (ymm, with AVX-512VL's 32 registers)
// kernels. Some CPUs run zmm FMAs at half the rate or lower the clock for them, so
// by default the FMA throughput of both widths is measured once (~10 ms) and zmm is
// kept unless ymm is clearly faster: the planner's choice vector_bits (planner.h).
// SUBQ_VECTOR_BITS=256|512 or SUBQ_PLAN=vector_bits=256 forces a width at start-up;
// set_vector_width() at run time. Every kernel gives the same bits at
// either width, so the choice affects speed only.
#pragma once

namespace subq::cpu {

enum class VectorWidth { Auto = 0, W256 = 256, W512 = 512 };

void set_vector_width(VectorWidth w);
// True when the AVX-512 kernels should use zmm (meaningful at SimdLevel::AVX512).
bool use_zmm();
// The width in effect for the current SIMD level: 512, 256, or 32 (scalar).
int vector_bits();

}  // namespace subq::cpu
