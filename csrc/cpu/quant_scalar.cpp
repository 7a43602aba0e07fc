// The integer Q.K^T in portable C++: the fallback, and the plain statement of what the
// SIMD versions compute.
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
  static T prepare(T k) { return k; }
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
  static float load_v(const uint8_t* row, int bits, int64_t x) { return float(quant_value(row, bits, x)); }
  static void load_v4(const uint8_t* row, int bits, int64_t x, float v[4]) {
    for (int i = 0; i < 4; ++i) v[i] = load_v(row, bits, x + i);
  }
};

constexpr QuantKernels kScalar{qk, 1, 0, dequant, qdecode<ScalarI>, quantize_group};

}  // namespace

const QuantKernels& quant_kernels_scalar() { return kScalar; }

}  // namespace subq::cpu
