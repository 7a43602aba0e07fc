// Attention phases on AVX2 + FMA (16 ymm registers): 4 x 3 micro-tiles, 24-query tiles.
#include <immintrin.h>

#include "attention_simd.h"
#include "vec_avx2.h"

namespace subq::cpu {
namespace {

// The shared AVX2 vector type plus the attention tile shape and the softmax exp2:
// 2^x for x <= 0 (and up to 2^26) without scalef: 2^floor(x) is built in the exponent
// bits. Below -127 the result is 0; max(-127, x) keeps a NaN x.
struct Avx2 : VecAvx2 {
  static constexpr int Q = 3, KR = 4, DR = 4;
  static T exp2(T x) {
    x = _mm256_max_ps(_mm256_set1_ps(-127.0f), x);
    const T n = _mm256_round_ps(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    const T p = exp2_poly<Avx2>(_mm256_sub_ps(x, n));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  }
};

constexpr AttentionKernels kAvx2 = kernels_for<Avx2>();

}  // namespace

const AttentionKernels& attention_kernels_avx2() { return kAvx2; }

}  // namespace subq::cpu
