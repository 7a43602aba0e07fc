// The integer Q.K^T on AVX2 (also AVX-512 CPUs without VNNI): vpmaddubsw multiplies
// unsigned by signed bytes, so it takes |q| and k with q's sign. |q| <= 128 and
// |k| <= 127 keep each pair's sum within int16 (no saturation), vpmaddwd adds the pairs:
// the exact dot product.
#include <immintrin.h>

#include "quant_decode.h"
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
  static constexpr uint8_t q_xor = 0;
  static T start(int32_t) { return zero(); }
  static T dot4(T acc, T q, T k) {
    const T prod = _mm256_maddubs_epi16(_mm256_abs_epi8(q), _mm256_sign_epi8(k, q));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(prod, _mm256_set1_epi16(1)));
  }
  static T fix(T acc, int32_t) { return acc; }
  // pv 'int8': P' is unsigned (up to 255), so a pair of products can pass int16's range;
  // each vpmaddubsw takes one product of a pair (V' with every other byte zeroed).
  static T dot4u(T acc, T p, T v) {
    const T ones = _mm256_set1_epi16(1);
    const T ve = _mm256_and_si256(v, set1(0x00ff00ff)), vo = _mm256_and_si256(v, set1(int32_t(0xff00ff00u)));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(p, ve), ones));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(p, vo), ones));
  }
  // quantize_value's rounding of v in [0, 255], as the VNNI table's.
  static T round_u8(__m256 v) {
    __asm__("" : "+x"(v));
    return _mm256_cvttps_epi32(_mm256_add_ps(v, _mm256_set1_ps(kRoundU8)));
  }
  static T pack4(T a, T b, T c, T d) {
    return _mm256_or_si256(_mm256_or_si256(a, _mm256_slli_epi32(b, 8)),
                           _mm256_or_si256(_mm256_slli_epi32(c, 16), _mm256_slli_epi32(d, 24)));
  }
  // The four values at p in every lane (dot4's k, dot4u's v).
  static T bcast4(const int8_t* p) {
    int32_t w;
    std::memcpy(&w, p, 4);
    return set1(w);
  }
  static __m256 to_float(T x) { return _mm256_cvtepi32_ps(x); }
  // Decode (quant_decode.h): dot4 is symmetric in its operands here, K' needs no offset.
  static T load32(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static void store(int32_t* p, T v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  // Lane l = the sum of v[l]'s lanes: pairs of vectors interleaved and added.
  static T fold(T v[8]) {
    T a[4], b[2];
    for (int i = 0; i < 4; ++i)
      a[i] = _mm256_add_epi32(_mm256_unpacklo_epi32(v[2 * i], v[2 * i + 1]),
                              _mm256_unpackhi_epi32(v[2 * i], v[2 * i + 1]));
    for (int i = 0; i < 2; ++i)
      b[i] = _mm256_add_epi32(_mm256_unpacklo_epi64(a[2 * i], a[2 * i + 1]),
                              _mm256_unpackhi_epi64(a[2 * i], a[2 * i + 1]));
    return _mm256_add_epi32(_mm256_permute2x128_si256(b[0], b[1], 0x20), _mm256_permute2x128_si256(b[0], b[1], 0x31));
  }
  // 32 values of a K' row (INT4: 16 bytes, low nibble first), -128 / -8 read as -127 / -7.
  static T load_k(const uint8_t* p, int bits) {
    if (bits == 8) return _mm256_max_epi8(load(reinterpret_cast<const int8_t*>(p)), _mm256_set1_epi8(-127));
    const __m256i w = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    const __m256i n = _mm256_or_si256(_mm256_and_si256(w, _mm256_set1_epi16(0x000f)),
                                      _mm256_and_si256(_mm256_slli_epi16(w, 4), _mm256_set1_epi16(0x0f00)));
    const __m256i eight = _mm256_set1_epi8(8);
    return _mm256_max_epi8(_mm256_sub_epi8(_mm256_xor_si256(n, eight), eight), _mm256_set1_epi8(-7));
  }
  // Decode's dot4 operand: dot4 is symmetric here, K' needs no offset.
  static T load_k_dot(const uint8_t* p, int bits) { return load_k(p, bits); }
  // 8 values of a V' row from column x (even) as fp32.
  static __m256 load_v(const uint8_t* row, int bits, int64_t x) {
    const uint8_t* p = row + (bits == 8 ? x : x / 2);
    __m128i v;
    if (bits == 8) {
      v = _mm_max_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)), _mm_set1_epi8(-127));
    } else {
      int32_t four;
      std::memcpy(&four, p, 4);
      const __m128i b = _mm_cvtsi32_si128(four), low = _mm_set1_epi8(0x0f), eight = _mm_set1_epi8(8);
      const __m128i lo = _mm_and_si128(b, low), hi = _mm_and_si128(_mm_srli_epi16(b, 4), low);
      v = _mm_max_epi8(_mm_sub_epi8(_mm_xor_si128(_mm_unpacklo_epi8(lo, hi), eight), eight), _mm_set1_epi8(-7));
    }
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v));
  }
  // 32 values from column x (even): unpacked and clamped as K' rows, then widened.
  static void load_v4(const uint8_t* row, int bits, int64_t x, __m256 v[4]) {
    const __m256i b = load_k(row + (bits == 8 ? x : x / 2), bits);
    const __m128i lo = _mm256_castsi256_si128(b), hi = _mm256_extracti128_si256(b, 1);
    v[0] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo));
    v[1] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)));
    v[2] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi));
    v[3] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)));
  }
};

// 16 registers. Q.K^T: 3 x 4 accumulators, 24-query tiles (the AVX2 attention tile); the
// other widths the driver may pair with it (AVX-512 without VNNI) take 8 or 6 keys x 4 or 8.
// pv 'int8': one output column at a time (the split products take registers).
using Tiles = QuantTiles<QuantTile<3, 3, 1>, QuantTile<4, 2, 1>, QuantTile<6, 1, 1>, QuantTile<8, 1, 1>>;

constexpr QuantKernels kAvx2{Tiles::qk<Avx2I>, 8, Avx2I::q_xor, dequant, qdecode<Avx2I>, qdecode_pv8<Avx2I>,
                             qdecode_bf16<Avx2I>, nullptr,
                             quantize_group<VecAvx2>, Tiles::pv<Avx2I>};

}  // namespace

const QuantKernels& quant_kernels_avx2() { return kAvx2; }

}  // namespace subq::cpu
