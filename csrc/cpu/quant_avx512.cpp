// The integer Q.K^T with AVX512-VNNI: vpdpbusd adds four u8 x s8 products per int32 lane
// without saturation. Q' is signed, so the tile stages it as q + 128 (an xor of the sign
// bit, once per tile) and each key's accumulator starts at -128 * sum(k). Called only where the CPU has VNNI
// (core/cpu_features).
#pragma GCC target("avx512vnni")
#include <immintrin.h>

#include "quant_decode.h"
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
  static constexpr uint8_t q_xor = 0x80;
  static T start(int32_t ksum) { return _mm512_set1_epi32(-128 * ksum); }
  static T prepare(T q) { return _mm512_xor_si512(q, _mm512_set1_epi8(int8_t(0x80))); }
  // In asm: GCC 12 copies the accumulator of the intrinsic through a scratch register and
  // the stack on every call (24 accumulators), which halved the kernel's rate.
  static T dot4(T acc, T q, T k) {
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(q), "v"(k));
    return acc;
  }
  // The four values at p in every lane, for dot4's k: a broadcast into a register that
  // the tile's Q vectors share. Zen 5 ran the tiles 12% faster so than with vpdpbusd's
  // own broadcast from memory, which loads the same four bytes once per use.
  static T bcast4(const int8_t* p) {
    int32_t w;
    std::memcpy(&w, p, 4);
    return _mm512_set1_epi32(w);
  }
  // pv 'int8': P' (u8) times V' (s8), as dot4.
  static T dot4u(T acc, T p, T v) { return dot4(acc, p, v); }
  // quantize_value's rounding of v in [0, 255] (core/quant_rule.h's kRoundU8). The empty asm keeps
  // v a rounded product: GCC would fuse it with the add into an FMA.
  static T round_u8(__m512 v) {
    __asm__("" : "+v"(v));
    return _mm512_cvttps_epi32(_mm512_add_ps(v, _mm512_set1_ps(kRoundU8)));
  }
  // Four u8 per lane, a in the low byte.
  static T pack4(T a, T b, T c, T d) {
    return _mm512_or_si512(_mm512_or_si512(a, _mm512_slli_epi32(b, 8)),
                           _mm512_or_si512(_mm512_slli_epi32(c, 16), _mm512_slli_epi32(d, 24)));
  }
  static T fix(T acc, int32_t ksum) { return _mm512_sub_epi32(acc, _mm512_set1_epi32(128 * ksum)); }
  static __m512 to_float(T x) { return _mm512_cvtepi32_ps(x); }
  // Decode (quant_decode.h): K' goes in as the unsigned operand (k + 128, prepare), so
  // fix takes off 128 * sum(q'), one term per query row.
  static T load32(const int32_t* p) { return _mm512_loadu_si512(p); }
  static void store(int32_t* p, T v) { _mm512_storeu_si512(p, v); }
  // Lane l = the sum of v[l]'s lanes: pairs of vectors interleaved and added, four times
  // (45 operations, where a transpose and 15 adds take 79).
  static T fold(T v[16]) {
    T a[8], b[4], c[2];
    for (int i = 0; i < 8; ++i)
      a[i] = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2 * i], v[2 * i + 1]),
                              _mm512_unpackhi_epi32(v[2 * i], v[2 * i + 1]));
    for (int i = 0; i < 4; ++i)
      b[i] = _mm512_add_epi32(_mm512_unpacklo_epi64(a[2 * i], a[2 * i + 1]),
                              _mm512_unpackhi_epi64(a[2 * i], a[2 * i + 1]));
    // Each 128-bit segment now holds 4 vectors' partial sums; segments are combined next.
    for (int i = 0; i < 2; ++i)
      c[i] = _mm512_add_epi32(_mm512_shuffle_i32x4(b[2 * i], b[2 * i + 1], 0x88),
                              _mm512_shuffle_i32x4(b[2 * i], b[2 * i + 1], 0xdd));
    return _mm512_add_epi32(_mm512_shuffle_i32x4(c[0], c[1], 0x88), _mm512_shuffle_i32x4(c[0], c[1], 0xdd));
  }
  // f[g] lane 4i + r = the sum of key 4g + i, row r (qd_dots_folded); out[r] lane j = key
  // j's sum of row r: each vector's lanes grouped by row (vpermd), then 128-bit segments
  // transposed (segments4).
  static void rows4(const T f[4], T out[4]) {
    const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    T g[4];
    for (int i = 0; i < 4; ++i) g[i] = _mm512_permutexvar_epi32(idx, f[i]);
    segments4(g, out);
  }
  // pv 'int8' decode (quant_decode.h's qd_pv8_int): the low bytes of 16 lanes (P', 0..255).
  static void store_u8(uint8_t* p, T v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_cvtepi32_epi8(v)); }
  // 64 columns of 4 keys' V' rows a[0..3] as 4 vectors of dot4 operands: in vector k, dword d
  // of 128-bit segment l holds column 16 l + 4 k + d of the four keys (bytes 0..3).
  static void quad(const T a[4], T u[4]) {
    const T t0 = _mm512_unpacklo_epi8(a[0], a[1]), t1 = _mm512_unpackhi_epi8(a[0], a[1]);
    const T t2 = _mm512_unpacklo_epi8(a[2], a[3]), t3 = _mm512_unpackhi_epi8(a[2], a[3]);
    u[0] = _mm512_unpacklo_epi16(t0, t2);
    u[1] = _mm512_unpackhi_epi16(t0, t2);
    u[2] = _mm512_unpacklo_epi16(t1, t3);
    u[3] = _mm512_unpackhi_epi16(t1, t3);
  }
  // Sums of quad's layout back to column order: out[m] = segment m of a[0..3], columns
  // 16 m .. 16 m + 15.
  static void unquad(const T a[4], T out[4]) { segments4(a, out); }
  // out[m] segment i = a[i] segment m: a 4 x 4 transpose of 128-bit segments.
  static void segments4(const T a[4], T out[4]) {
    const T t0 = _mm512_shuffle_i32x4(a[0], a[1], 0x44), t1 = _mm512_shuffle_i32x4(a[0], a[1], 0xee);
    const T t2 = _mm512_shuffle_i32x4(a[2], a[3], 0x44), t3 = _mm512_shuffle_i32x4(a[2], a[3], 0xee);
    out[0] = _mm512_shuffle_i32x4(t0, t2, 0x88);
    out[1] = _mm512_shuffle_i32x4(t0, t2, 0xdd);
    out[2] = _mm512_shuffle_i32x4(t1, t3, 0x88);
    out[3] = _mm512_shuffle_i32x4(t1, t3, 0xdd);
  }
  // pv 'bf16' decode on AVX512-BF16 (quant_decode.h's qdecode_bf16_dot), run only where the
  // CPU has it. In asm, as dot4: this file is not built with -mavx512bf16.
  // 32 values rounded to bf16 (vcvtne2ps2bf16, as the bf16 tiles round P): a's in the low half.
  static T pack_bf16(__m512 a, __m512 b) {
    T r;
    __asm__("vcvtne2ps2bf16 %2, %1, %0" : "=v"(r) : "v"(b), "v"(a));
    return r;
  }
  // The same by core/half.h's rule (core/half_vec.h): also for subnormal and non-finite values.
  static T pack_bf16_exact(__m512 a, __m512 b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(subq::simd::f32x16_to_bf16(a)), subq::simd::f32x16_to_bf16(b), 1);
  }
  // acc + a.even * b.even + a.odd * b.odd per fp32 lane (vdpbf16ps).
  static __m512 dot_bf16(__m512 acc, T a, T b) {
    __asm__("vdpbf16ps %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
    return acc;
  }
  // Two rows of 32 bf16 columns (e, o) as pairs (e low, o high): lo holds columns 0-3, 8-11,
  // 16-19, 24-27 (one 128-bit segment each), hi the others (vpunpck*wd's order).
  static void pairs(T e, T o, T& lo, T& hi) {
    lo = _mm512_unpacklo_epi16(e, o);
    hi = _mm512_unpackhi_epi16(e, o);
  }
  // Columns 0-15 (c0) and 16-31 (c1) into pairs' order, and back.
  static void to_pairs_order(__m512 c0, __m512 c1, __m512 out[2]) {
    out[0] = _mm512_shuffle_f32x4(c0, c1, 0x88);
    out[1] = _mm512_shuffle_f32x4(c0, c1, 0xdd);
  }
  static void from_pairs_order(const __m512 in[2], __m512 out[2]) {
    const __m512 t0 = _mm512_shuffle_f32x4(in[0], in[1], 0x44), t1 = _mm512_shuffle_f32x4(in[0], in[1], 0xee);
    out[0] = _mm512_shuffle_f32x4(t0, t0, 0xd8);
    out[1] = _mm512_shuffle_f32x4(t1, t1, 0xd8);
  }
  // 64 values of a K' row (INT4: 32 bytes, low nibble first), -128 / -8 read as -127 / -7.
  static T load_k(const uint8_t* p, int bits) {
    if (bits == 8) return _mm512_max_epi8(_mm512_loadu_si512(p), _mm512_set1_epi8(-127));
    return int4_values(p, 0);
  }
  // The same plus 128 (prepare's offset) as decode's unsigned dot4 operand: for INT4 the
  // offset is in the lookup table, no xor per load.
  static T load_k_dot(const uint8_t* p, int bits) {
    if (bits == 8) return prepare(load_k(p, bits));
    return int4_values(p, int8_t(0x80));
  }
  // 64 INT4 values from 32 bytes, each xored with off.
  static T int4_values(const uint8_t* p, int8_t off) {
    // Each byte widened to 16 bits, its high nibble moved up a byte: nibbles in element order.
    const __m512i w = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    const __m512i n = _mm512_or_si512(_mm512_and_si512(w, _mm512_set1_epi16(0x000f)),
                                      _mm512_and_si512(_mm512_slli_epi16(w, 4), _mm512_set1_epi16(0x0f00)));
    // Nibble n -> max((n ^ 8) - 8, -7) by a table lookup: one shuffle for sign, offset and clamp.
    const __m128i value = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, -7, -7, -6, -5, -4, -3, -2, -1);
    return _mm512_shuffle_epi8(_mm512_broadcast_i32x4(_mm_xor_si128(value, _mm_set1_epi8(off))), n);
  }
  // 16 values of a V' row from column x (even) as fp32.
  static __m512 load_v(const uint8_t* row, int bits, int64_t x) {
    const uint8_t* p = row + (bits == 8 ? x : x / 2);
    __m128i v;
    if (bits == 8) {
      v = _mm_max_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), _mm_set1_epi8(-127));
    } else {
      const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)), low = _mm_set1_epi8(0x0f);
      const __m128i lo = _mm_and_si128(b, low), hi = _mm_and_si128(_mm_srli_epi16(b, 4), low), eight = _mm_set1_epi8(8);
      v = _mm_max_epi8(_mm_sub_epi8(_mm_xor_si128(_mm_unpacklo_epi8(lo, hi), eight), eight), _mm_set1_epi8(-7));
    }
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(v));
  }
  // 64 values from column x (even) as fp32; INT4 unpacked and clamped as K' rows, then widened.
  static void load_v4(const uint8_t* row, int bits, int64_t x, __m512 v[4]) {
    if (bits == 8) {
      // Widened from memory 16 at a time (no extracts), clamped as floats.
      for (int i = 0; i < 4; ++i) {
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + x + 16 * i));
        v[i] = _mm512_max_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b)), _mm512_set1_ps(-127.f));
      }
      return;
    }
    const __m512i b = load_k(row + x / 2, bits);
    v[0] = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm512_castsi512_si128(b)));
    v[1] = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm512_extracti32x4_epi32(b, 1)));
    v[2] = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm512_extracti32x4_epi32(b, 2)));
    v[3] = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm512_extracti32x4_epi32(b, 3)));
  }
};

// 32 registers. Q.K^T: 24 accumulators as the fp32 kernels (8 keys x 3 vectors for 48-query
// tiles, 6 x 4 for 64), 2 x 10 for the 32-query ymm tile. pv 'int8': 24 int32 sums as well
// (output columns x lane vectors; O^T stays in memory, quant_simd.h's pv_micro).
using Tiles = QuantTiles<QuantTile<2, 10, 12>, QuantTile<3, 8, 8>, QuantTile<4, 6, 6>>;

// quant_simd.h's dequant, 16 values a step: the same products, so the same bits.
void dequant16(const uint8_t* row, int bits, int64_t n, float scale, float* dst) {
  const __m512 s = _mm512_set1_ps(scale);
  int64_t x = 0;
  if (bits == 8) {
    for (; x + 16 <= n; x += 16) {
      __m512i v = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + x)));
      v = _mm512_max_epi32(v, _mm512_set1_epi32(-127));
      _mm512_storeu_ps(dst + x, _mm512_mul_ps(_mm512_cvtepi32_ps(v), s));
    }
  } else {
    const __m128i low = _mm_set1_epi8(0x0f), eight = _mm_set1_epi8(8);
    for (; x + 16 <= n; x += 16) {
      const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + x / 2));
      const __m128i lo = _mm_and_si128(b, low), hi = _mm_and_si128(_mm_srli_epi16(b, 4), low);
      // Nibbles in element order, sign-extended ((v ^ 8) - 8), -8 read as -7.
      __m128i v = _mm_sub_epi8(_mm_xor_si128(_mm_unpacklo_epi8(lo, hi), eight), eight);
      v = _mm_max_epi8(v, _mm_set1_epi8(-7));
      _mm512_storeu_ps(dst + x, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(v)), s));
    }
  }
  if (x < n) {
    // The tail: whole bytes from x on (x is even for INT4).
    dequant(row + (bits == 8 ? x : x / 2), bits, n - x, scale, dst + x);
  }
}

constexpr QuantKernels kVnni{Tiles::qk<ZmmI>, 16, ZmmI::q_xor, dequant16, qdecode<ZmmI>, qdecode_pv8<ZmmI>,
                             qdecode_bf16<ZmmI>, qdecode_bf16_dot<ZmmI>, quantize_group<VecZmm>, Tiles::pv<ZmmI>};

}  // namespace

const QuantKernels& quant_kernels_avx512_vnni() { return kVnni; }

}  // namespace subq::cpu
