// Attention phases on AVX-512: on zmm (8 x 3 micro-tiles, 48-query tiles) and on ymm with
// AVX-512VL (32 registers, scalef; 6 x 4, 32-query tiles). vector_width.h picks one per CPU.
#include "attention_simd.h"
#include "vec_avx512.h"

namespace subq::cpu {
namespace {

// The shared vector types plus the attention tile shape and the softmax exp2:
// 2^x = p(f) * 2^floor(x) with f = x - floor(x) from one vreduceps, and scalef, which
// floors its exponent operand itself. Both take any finite x (a huge negative x gives 0),
// which is why the masked sentinel needs no clamp.
struct Ymm512 : VecYmm {
  static constexpr int Q = 4, KR = 6, DR = 6;
  static T exp2(T x) {
    const T f = _mm256_reduce_ps(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    return _mm256_scalef_ps(exp2_poly<Ymm512>(f), x);
  }
};

struct Zmm512 : VecZmm {
  static constexpr int Q = 3, KR = 8, DR = 8;
  static T exp2(T x) {
    const T f = _mm512_reduce_ps(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    return _mm512_scalef_ps(exp2_poly<Zmm512>(f), x);
  }
};

// 64-query tiles (6 x 4 micro-tiles, the other 24-accumulator shape): whole tiles in the
// 64- and 128-row query blocks of a block mask, where 48-query tiles waste a sixth of
// their lanes. Per lane the same operations in the same order, so the same bits.
struct Zmm512Q4 : Zmm512 {
  static constexpr int Q = 4, KR = 6, DR = 6;
};

constexpr AttentionKernels kYmm = kernels_for<Ymm512>();
constexpr AttentionKernels kZmm = kernels_for<Zmm512>();
constexpr AttentionKernels kZmm64 = kernels_for<Zmm512Q4>();

}  // namespace

const AttentionKernels& attention_kernels_avx512_ymm() { return kYmm; }
const AttentionKernels& attention_kernels_avx512_zmm() { return kZmm; }
const AttentionKernels& attention_kernels_avx512_zmm64() { return kZmm64; }

}  // namespace subq::cpu
