#include "peak_simd.h"
#include "vec_avx512.h"

namespace subq::cpu::simd {

// 24 accumulators on two FMA ports.
double fma_loop_avx512(int64_t iters) { return fma_loop<VecZmm, 24>(iters); }

}  // namespace subq::cpu::simd
