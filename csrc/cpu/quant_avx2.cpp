// The integer Q.K^T on AVX2 (also AVX-512 CPUs without VNNI): vpmaddubsw multiplies
// unsigned by signed bytes, so it takes |q| and k with q's sign. |q| <= 128 and
// |k| <= 127 keep each pair's sum within int16 (no saturation), vpmaddwd adds the pairs:
// the exact dot product.
#include <immintrin.h>

#include "quant_simd.h"
#include "vec_avx2.h"

namespace subq::cpu {
namespace {

struct Avx2I {
  using T = __m256i;
  using F = VecAvx2;
  static constexpr int W = 8;
  static T zero() { return _mm256_setzero_si256(); }
  static T set1(int32_t v) { return _mm256_set1_epi32(v); }
  static T load(const int8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static T prepare(T q) { return q; }
  static T dot4(T acc, T q, T k) {
    const T prod = _mm256_maddubs_epi16(_mm256_abs_epi8(q), _mm256_sign_epi8(k, q));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(prod, _mm256_set1_epi16(1)));
  }
  static T fix(T acc, int32_t) { return acc; }
  static __m256 to_float(T x) { return _mm256_cvtepi32_ps(x); }
};

// 16 registers: 3 x 4 accumulators, 24-query tiles (the AVX2 attention tile); the other
// widths the driver may pair with it (AVX-512 without VNNI) take 8 or 6 keys x 4 or 8.
void qk(const QkInt& a) {
  switch (a.tq / 8) {
    case 3: return qk_rows<Avx2I, 3, 3>(a);
    case 4: return qk_rows<Avx2I, 4, 2>(a);
    case 6: return qk_rows<Avx2I, 6, 1>(a);
    default: return qk_rows<Avx2I, 8, 1>(a);
  }
}

constexpr QuantKernels kAvx2{qk, 8, dequant};

}  // namespace

const QuantKernels& quant_kernels_avx2() { return kAvx2; }

}  // namespace subq::cpu
