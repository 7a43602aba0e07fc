// The integer Q.K^T in portable C++: the fallback, and the plain statement of what the
// SIMD versions compute.
#include <cmath>

#include "../core/quant_params.h"
#include "quant_kernels.h"

namespace subq::cpu {
namespace {

void qk(const QkInt& a) {
  for (int64_t j = 0; j < a.nk; ++j) {
    const int8_t* k = a.k + j * a.ks;
    for (int l = 0; l < a.tq; ++l) {
      int32_t acc = 0;
      for (int64_t i = 0; i < a.d4; ++i)
        for (int c = 0; c < 4; ++c) acc += int32_t(a.qt[(i * a.tq + l) * 4 + c]) * k[i * 4 + c];
      a.s[j * a.tq + l] = std::fma(float(acc), a.qscale[l] * a.kscale[j], a.bias[l]);
    }
  }
}

void dequant(const uint8_t* row, int bits, int64_t n, float scale, float* dst) {
  for (int64_t x = 0; x < n; ++x) dst[x] = float(quant_value(row, bits, x)) * scale;
}

constexpr QuantKernels kScalar{qk, 1, dequant};

}  // namespace

const QuantKernels& quant_kernels_scalar() { return kScalar; }

}  // namespace subq::cpu
