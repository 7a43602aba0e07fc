// Attention phases in portable C++: the fallback without AVX2 and the plain statement
// of what the SIMD versions compute.
#include <cmath>

#include "attention_decode_kernel.h"
#include "attention_kernels.h"
#include "vec_scalar.h"

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
    advance(m[c], l[c], mx, alpha[c], sum);
  }
}

// softmax's step per row, keys in memory (AttentionKernels::softmax_rows).
void softmax_rows(float* s, int64_t ss, int rows, int64_t nk, float* m, float* l, float* alpha) {
  for (int r = 0; r < rows; ++r) {
    float* x = s + r * ss;
    float mx = m[r];
    for (int64_t j = 0; j < nk; ++j) mx = std::fmax(mx, x[j]);
    float sum = 0;
    for (int64_t j = 0; j < nk; ++j) sum += x[j] = std::exp2(x[j] - mx);
    alpha[r] = std::exp2(m[r] - mx);
    advance(m[r], l[r], mx, alpha[r], sum);
  }
}

// a(x, j) = a[x * xs + j * js]: rows of V^T (xs = vts, js = 1) or of V (xs = 1, js = vs).
void pv_strided(const float* p, int64_t nk, const float* a, int64_t xs, int64_t js, int64_t dv, float* ot,
                const float* alpha) {
  for (int64_t x = 0; x < dv; ++x) {
    float* o = ot + x * TQ;
    for (int c = 0; c < TQ; ++c) o[c] *= alpha[c];
    for (int64_t j = 0; j < nk; ++j)
      for (int c = 0; c < TQ; ++c) o[c] += a[x * xs + j * js] * p[j * TQ + c];
  }
}

void pv(const float* p, int64_t nk, const float* vt, int64_t vts, int64_t dv, float* ot, const float* alpha) {
  pv_strided(p, nk, vt, vts, 1, dv, ot, alpha);
}

void pv_rows(const float* p, int64_t nk, const float* v, int64_t vs, int64_t dv, float* ot, const float* alpha) {
  pv_strided(p, nk, v, 1, vs, dv, ot, alpha);
}

void transpose(const float* s, int64_t ss, int64_t rows, int64_t cols, float* d, int64_t ds) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) d[c * ds + r] = s[r * ss + c];
}

// The decode kernel's one-lane vector.
struct Scalar : VecScalar {
  static T exp2(T x) { return std::exp2(x); }
};

constexpr AttentionKernels kScalar{TQ, qk, softcap, softmax, softmax_rows, pv, pv_rows, transpose, decode<Scalar>};

}  // namespace

const AttentionKernels& attention_kernels_scalar() { return kScalar; }

}  // namespace subq::cpu
