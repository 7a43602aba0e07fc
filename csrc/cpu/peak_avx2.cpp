#include "peak_simd.h"
#include "vec_avx2.h"

namespace subq::cpu::simd {

double fma_loop_avx2(int64_t iters) { return fma_loop<VecAvx2, 12>(iters); }

}  // namespace subq::cpu::simd
