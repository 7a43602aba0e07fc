// The integer Q.K^T with AVX512-VNNI: vpdpbusd adds four u8 x s8 products per int32 lane
// without saturation. Q' is signed, so it goes in as q + 128 (an xor of the sign bit) and
// 128 * sum(k) comes off the accumulator. Called only where the CPU has VNNI
// (core/cpu_features).
#pragma GCC target("avx512vnni")
#include <immintrin.h>

#include "quant_simd.h"
#include "vec_avx512.h"

namespace subq::cpu {
namespace {

struct ZmmI {
  using T = __m512i;
  using F = VecZmm;
  static constexpr int W = 16;
  static T zero() { return _mm512_setzero_si512(); }
  static T set1(int32_t v) { return _mm512_set1_epi32(v); }
  static T load(const int8_t* p) { return _mm512_loadu_si512(p); }
  static T prepare(T q) { return _mm512_xor_si512(q, _mm512_set1_epi8(int8_t(0x80))); }
  static T dot4(T acc, T q, T k) { return _mm512_dpbusd_epi32(acc, q, k); }
  static T fix(T acc, int32_t ksum) { return _mm512_sub_epi32(acc, _mm512_set1_epi32(128 * ksum)); }
  static __m512 to_float(T x) { return _mm512_cvtepi32_ps(x); }
};

// 32 registers: 24 accumulators as the fp32 kernels (8 keys x 3 vectors for 48-query
// tiles, 6 x 4 for 64), 2 x 12 for the 32-query ymm tile.
void qk(const QkInt& a) {
  switch (a.tq / 16) {
    case 2: return qk_rows<ZmmI, 2, 10>(a);
    case 3: return qk_rows<ZmmI, 3, 8>(a);
    default: return qk_rows<ZmmI, 4, 6>(a);
  }
}

constexpr QuantKernels kVnni{qk, 16, dequant};

}  // namespace

const QuantKernels& quant_kernels_avx512_vnni() { return kVnni; }

}  // namespace subq::cpu
