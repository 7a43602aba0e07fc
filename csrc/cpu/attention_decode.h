// Decode rows over a vector type V (a vec_*.h type plus exp2(x) for x <= 0): a few
// query rows against many keys. The tile kernels would fill their 24-48 query lanes
// with these few rows; here the head dim is in the lanes instead, so each key costs
// one dot product and one axpy per row, and the kernel runs at the speed of reading K
// and V.
#pragma once
#include <cstdint>

#include "attention_kernels.h"

namespace subq::cpu {
namespace {

// sum_x a[x] * b[x] for x < n.
template <class V>
inline float dot(const float* a, const float* b, int64_t n) {
  using T = typename V::T;
  constexpr int W = V::W;
  T s0 = V::zero(), s1 = V::zero();
  int64_t x = 0;
  for (; x + 2 * W <= n; x += 2 * W) {
    s0 = V::fmadd(V::load(a + x), V::load(b + x), s0);
    s1 = V::fmadd(V::load(a + x + W), V::load(b + x + W), s1);
  }
  for (; x < n; x += W) {
    const int c = n - x < W ? int(n - x) : W;
    s0 = V::fmadd(V::load_n(a + x, c), V::load_n(b + x, c), s0);
  }
  return V::reduce_add(V::add(s0, s1));
}

// o[r][:] += sum_{j < nk} p[r][j] * v[j*vs + :] for r < R, a vector of columns at a time
// with the R partial rows in registers.
template <class V, int R>
inline void axpy_rows(const float (*p)[kDecodeBlock], int nk, const float* v, int64_t vs, int64_t dv, float* o) {
  using T = typename V::T;
  constexpr int W = V::W;
  for (int64_t x = 0; x < dv; x += W) {
    const int c = dv - x < W ? int(dv - x) : W;
    T acc[R];
    for (int r = 0; r < R; ++r) acc[r] = V::load_n(o + r * dv + x, c);
    for (int j = 0; j < nk; ++j) {
      const T vv = V::load_n(v + j * vs + x, c);
      for (int r = 0; r < R; ++r) acc[r] = V::fmadd(V::set1(p[r][j]), vv, acc[r]);
    }
    for (int r = 0; r < R; ++r) V::store_n(o + r * dv + x, acc[r], c);
  }
}

// One key range for R rows, kDecodeBlock keys at a time: scores, softcap, masking, the
// online softmax update (as softmax<V> in attention_simd.h), then P.V.
template <class V, int R>
void decode_rows(const DecodeRange& a) {
  alignas(64) float s[R][kDecodeBlock] = {};
  for (int64_t b0 = 0; b0 < a.nk; b0 += kDecodeBlock) {
    const int n = a.nk - b0 < kDecodeBlock ? int(a.nk - b0) : kDecodeBlock;
    const float* k = a.k + b0 * a.ks;
    for (int j = 0; j < n; ++j)
      for (int r = 0; r < R; ++r) s[r][j] = dot<V>(a.q + r * a.d, k + j * a.ks, a.d);
    if (a.cap > 0) a.softcap(&s[0][0], int64_t(R) * kDecodeBlock, a.cap);
    for (int r = 0; r < R; ++r) {
      const int64_t j0 = a.j0 + b0;  // key index of lane 0
      float mx = a.m[r];
      for (int j = 0; j < kDecodeBlock; ++j) {
        if (j >= n || j0 + j < a.lo[r] || j0 + j >= a.hi[r]) s[r][j] = kMaskedScore;
        mx = s[r][j] > mx || s[r][j] != s[r][j] ? s[r][j] : mx;  // NaN wins, as in softmax<V>
      }
      float sum = 0.f;
      for (int j = 0; j < kDecodeBlock; j += V::W) {
        const typename V::T pv = V::exp2(V::sub(V::load(&s[r][j]), V::set1(mx)));
        V::store(&s[r][j], pv);
        sum += V::reduce_add(pv);
      }
      alignas(64) float alpha[V::W];
      V::store(alpha, V::exp2(V::set1(a.m[r] - mx)));
      if (alpha[0] != 1.f)
        for (int64_t x = 0; x < a.dv; ++x) a.o[r * a.dv + x] *= alpha[0];
      a.l[r] = a.l[r] * alpha[0] + sum;
      a.m[r] = mx;
    }
    axpy_rows<V, R>(s, n, a.v + b0 * a.vs, a.vs, a.dv, a.o);
  }
}

template <class V, int R = kDecodeRows>
void decode(const DecodeRange& a) {
  if constexpr (R > 1)
    if (a.rows < R) return decode<V, R - 1>(a);
  decode_rows<V, R>(a);
}

}  // namespace
}  // namespace subq::cpu
