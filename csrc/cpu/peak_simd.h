// ISA-specific bodies for peak.cpp: each returns the flops it performed.
#pragma once
#include <cstdint>

namespace subq::cpu::simd {
double fma_loop_avx512(int64_t iters);
double fma_loop_avx2(int64_t iters);
}
