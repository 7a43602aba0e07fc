// log2(e) and ln(2), written once for every backend. The softmax kernels keep scores in
// base 2 (s * log2(e), so exp(s) is one exp2) and turn a base-2 log-sum-exp back into
// the natural log the API returns with ln(2). Plain constexpr with no includes, so host
// code, the CPU kernels and CUDA device code (nvcc, the SIMT emulator) all read it.
#pragma once

namespace subq {

inline constexpr double kLog2e = 1.4426950408889634;  // log2(e)
inline constexpr double kLn2 = 0.6931471805599453;    // ln(2) = 1 / log2(e)
// The fp32 roundings, for kernels that compute in fp32.
inline constexpr float kLog2eF = float(kLog2e);
inline constexpr float kLn2F = float(kLn2);

static_assert(kLog2eF == 1.44269504088896341f && kLn2F == 0.69314718055994531f);

}  // namespace subq
