// The integer Q.K^T in portable C++: the fallback, and the plain statement of what the
// SIMD versions compute.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "../core/quant_params.h"
#include "quant_decode.h"
#include "quant_kernels.h"
#include "quant_simd.h"
#include "vec_scalar.h"

namespace subq::cpu {
namespace {

void qk(const QkInt& a) {
  for (int64_t j = 0; j < a.nk; ++j) {
    const int8_t* k = a.k + j * a.ks;
    for (int l = 0; l < a.tq; ++l) {
      int32_t acc = 0;
      for (int64_t i = 0; i < a.d4; ++i)
        for (int c = 0; c < 4; ++c) acc += int32_t(a.qt[(i * a.tq + l) * 4 + c]) * k[i * 4 + c];
      const float s = std::fma(float(acc), a.qscale[l] * a.kscale[j], a.bias[l]);
      a.s[j * a.tq + l] = a.kterm ? s + a.kterm[j] : s;
    }
  }
}

// quant_decode.h's integer type on one lane: four int8 values packed in an int32.
struct ScalarI {
  using T = int32_t;
  using F = VecScalar;
  static constexpr int W = 1;
  static T zero() { return 0; }
  static T pack(const int8_t v[4]) {
    T t;
    std::memcpy(&t, v, 4);
    return t;
  }
  static T load(const int8_t* p) { return pack(p); }
  static T dot4(T acc, T a, T b) {
    int8_t x[4], y[4];
    std::memcpy(x, &a, 4);
    std::memcpy(y, &b, 4);
    for (int c = 0; c < 4; ++c) acc += int32_t(x[c]) * y[c];
    return acc;
  }
  static T fix(T acc, int32_t) { return acc; }
  static float to_float(T x) { return float(x); }
  static T load32(const int32_t* p) { return *p; }
  static void store(int32_t* p, T v) { *p = v; }
  static T fold(T v[1]) { return v[0]; }
  static T load_k(const uint8_t* p, int bits) {
    int8_t v[4];
    for (int c = 0; c < 4; ++c) v[c] = int8_t(quant_value(p, bits, c));
    return pack(v);
  }
  static T load_k_dot(const uint8_t* p, int bits) { return load_k(p, bits); }
  static float load_v(const uint8_t* row, int bits, int64_t x) { return float(quant_value(row, bits, x)); }
  static void load_v4(const uint8_t* row, int bits, int64_t x, float v[4]) {
    for (int i = 0; i < 4; ++i) v[i] = load_v(row, bits, x + i);
  }
  // pv 'int8' (quant_simd.h's quant_p): quantize_value's rounding of v in [0, 255] (a NaN
  // as 0; the SIMD tables leave a NaN row's P' undefined, its output is NaN either way).
  static T round_u8(float v) { return subq::round_u8(v); }
  static T pack4(T a, T b, T c, T d) { return int32_t(uint32_t(a) | uint32_t(b) << 8 | uint32_t(c) << 16 | uint32_t(d) << 24); }
};

// pv 'int8' as PvInt states it, lane by lane.
void pv(const PvInt& a) {
  quant_p<ScalarI, 1>(a);
  const int64_t n4 = (a.nk + 3) / 4;
  for (int64_t x = 0; x < a.dv; ++x)
    for (int l = 0; l < a.tq; ++l) {
      float o = a.ot[x * a.tq + l] * a.alpha[l];
      for (int64_t i0 = 0, g = 0; i0 < n4; i0 += kPBlock / 4, ++g) {
        int32_t acc = 0;
        for (int64_t i = i0; i < std::min(n4, i0 + kPBlock / 4); ++i)
          for (int c = 0; c < 4; ++c) acc += int32_t(a.p4[i * a.tq + l] >> (8 * c) & 255) * a.vt[x * a.vts + 4 * i + c];
        o = std::fma(float(acc), a.pscale[g * a.tq + l], o);
      }
      a.ot[x * a.tq + l] = o;
    }
}

constexpr QuantKernels kScalar{qk, 1, 0, dequant, qdecode<ScalarI>, qdecode_pv8<ScalarI>, qdecode_bf16<ScalarI>, nullptr, quantize_group<VecScalar>, pv};

}  // namespace

const QuantKernels& quant_kernels_scalar() { return kScalar; }

}  // namespace subq::cpu
