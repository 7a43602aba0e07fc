// The bf16 matrix phases of attention on AVX512-BF16 (vdpbf16ps, vcvtne2ps2bf16), in zmm
// and in ymm with AVX512-VL, one set per fp32 query tile of attention_avx512.cpp. The only
// file built with -mavx512bf16 (scripts/sources.js: *_avx512bf16.cpp); its kernels run
// only where cpu_features().avx512bf16 says so.
#include "attention_bf16_simd.h"
#include "vec_avx512.h"

namespace subq::cpu {
namespace {

// Rounding P to bf16: vcvtne2ps2bf16 puts one vector's 16 (8) values in the low half and
// the other's in the high half; vpermw interleaves the halves lane by lane. The
// conversion rounds to nearest even (tiny values flush to 0, as bf16 hardware does).
alignas(64) constexpr int16_t kInterleave[32] = {0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,  21, 6,  22, 7,  23,
                                                 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
alignas(32) constexpr int16_t kInterleave8[16] = {0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15};

struct ZmmPairs : VecZmm {
  using Pair = __m512bh;
  static Pair load_pairs(const uint32_t* p) { return (Pair)_mm512_loadu_si512(p); }
  static Pair bcast(uint32_t x) { return (Pair)_mm512_set1_epi32(int(x)); }
  static T dot(T acc, Pair a, Pair b) { return _mm512_dpbf16_ps(acc, a, b); }
  static Pair round_pairs(T even, T odd) {
    const __m512i halves = (__m512i)_mm512_cvtne2ps_pbh(odd, even);  // even low, odd high
    return (Pair)_mm512_permutexvar_epi16(_mm512_load_si512(kInterleave), halves);
  }
  static void store_pairs(uint32_t* p, Pair x) { _mm512_storeu_si512(p, (__m512i)x); }
};

struct YmmPairs : VecYmm {
  using Pair = __m256bh;
  static Pair load_pairs(const uint32_t* p) { return (Pair)_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static Pair bcast(uint32_t x) { return (Pair)_mm256_set1_epi32(int(x)); }
  static T dot(T acc, Pair a, Pair b) { return _mm256_dpbf16_ps(acc, a, b); }
  static Pair round_pairs(T even, T odd) {
    const __m256i halves = (__m256i)_mm256_cvtne2ps_pbh(odd, even);
    return (Pair)_mm256_permutexvar_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(kInterleave8)), halves);
  }
  static void store_pairs(uint32_t* p, Pair x) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), (__m256i)x); }
};

// The query tiles of attention_avx512.cpp's Ymm512 (4 x 8 lanes), Zmm512 (3 x 16) and
// Zmm512Q4 (4 x 16); micro-tiles of about 24 accumulators, as there.
struct Ymm : YmmPairs {
  static constexpr int Q = 4, KR = 6, DR = 6;
};
struct Zmm : ZmmPairs {
  static constexpr int Q = 3, KR = 8, DR = 8;
};
struct Zmm64 : ZmmPairs {
  static constexpr int Q = 4, KR = 6, DR = 6;
};

constexpr AttentionBf16Kernels kYmm = bf16_kernels_for<Ymm>();
constexpr AttentionBf16Kernels kZmm = bf16_kernels_for<Zmm>();
constexpr AttentionBf16Kernels kZmm64 = bf16_kernels_for<Zmm64>();

}  // namespace

const AttentionBf16Kernels& attention_bf16_kernels_ymm() { return kYmm; }
const AttentionBf16Kernels& attention_bf16_kernels_zmm() { return kZmm; }
const AttentionBf16Kernels& attention_bf16_kernels_zmm64() { return kZmm64; }

}  // namespace subq::cpu
