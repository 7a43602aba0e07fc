// Attention phases in portable C++: the fallback without AVX2 and the plain statement
// of what the SIMD versions compute.
#include <cmath>

#include "attention_kernels.h"

namespace subq::cpu {
namespace {

constexpr int TQ = 8;

void qk(const float* qt, int64_t d, const float* k, int64_t ks, int64_t nk, float* s) {
  for (int64_t j = 0; j < nk; ++j) {
    float acc[TQ] = {};
    for (int64_t x = 0; x < d; ++x)
      for (int c = 0; c < TQ; ++c) acc[c] += k[j * ks + x] * qt[x * TQ + c];
    for (int c = 0; c < TQ; ++c) s[j * TQ + c] = acc[c];
  }
}

void softcap(float* s, int64_t n, float cap) {
  for (int64_t i = 0; i < n; ++i) s[i] = cap * std::tanh(s[i]);
}

void softmax(float* s, int64_t nk, float* m, float* l, float* alpha) {
  for (int c = 0; c < TQ; ++c) {
    float mx = m[c];
    for (int64_t j = 0; j < nk; ++j) mx = std::fmax(mx, s[j * TQ + c]);
    float sum = 0;
    for (int64_t j = 0; j < nk; ++j) sum += s[j * TQ + c] = std::exp2(s[j * TQ + c] - mx);
    alpha[c] = std::exp2(m[c] - mx);
    l[c] = l[c] * alpha[c] + sum;
    m[c] = mx;
  }
}

void pv(const float* p, int64_t nk, const float* v, int64_t vs, int64_t dv, float* ot, const float* alpha) {
  for (int64_t x = 0; x < dv; ++x) {
    float* o = ot + x * TQ;
    for (int c = 0; c < TQ; ++c) o[c] *= alpha[c];
    for (int64_t j = 0; j < nk; ++j)
      for (int c = 0; c < TQ; ++c) o[c] += v[j * vs + x] * p[j * TQ + c];
  }
}

constexpr AttentionKernels kScalar{TQ, qk, softcap, softmax, pv};

}  // namespace

const AttentionKernels& attention_kernels_scalar() { return kScalar; }

}  // namespace subq::cpu
