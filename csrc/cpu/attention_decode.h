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

// o[r][:] = o[r][:] * alpha[r] + sum_{j < nk} p[r][j] * v[j*vs + :] for r < R, C vectors
// of columns from x at a time (c valid lanes in the last), the R x C sums in registers.
template <class V, int R, int C>
inline void axpy_cols(const float (*p)[V::W], const float* alpha, int nk, const float* v, int64_t vs, int64_t dv,
                      int64_t x, int c, float* o) {
  using T = typename V::T;
  constexpr int W = V::W;
  // Lane counts: whole vectors but for a partial last one (masked loads and stores).
  auto load = [&](const float* at, int i) { return i + 1 < C || c == W ? V::load(at) : V::load_n(at, c); };
  T acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int i = 0; i < C; ++i) acc[r][i] = V::mul(load(o + r * dv + x + i * W, i), V::set1(alpha[r]));
  for (int j = 0; j < nk; ++j) {
    T vv[C];
    for (int i = 0; i < C; ++i) vv[i] = load(v + j * vs + x + i * W, i);
    for (int r = 0; r < R; ++r) {
      const T pj = V::set1(p[r][j]);
      for (int i = 0; i < C; ++i) acc[r][i] = V::fmadd(pj, vv[i], acc[r][i]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int i = 0; i < C; ++i)
      if (i + 1 < C || c == W) V::store(o + r * dv + x + i * W, acc[r][i]);
      else V::store_n(o + r * dv + x + i * W, acc[r][i], c);
}

template <class V, int R>
inline void axpy_rows(const float (*p)[V::W], const float* alpha, int nk, const float* v, int64_t vs, int64_t dv,
                      float* o) {
  constexpr int W = V::W;
  constexpr int C = R <= 4 ? 4 : 2;  // columns per pass: R x C sums fit the registers
  int64_t x = 0;
  for (; x + C * W <= dv; x += C * W) axpy_cols<V, R, C>(p, alpha, nk, v, vs, dv, x, W, o);
  for (; x < dv; x += W) axpy_cols<V, R, 1>(p, alpha, nk, v, vs, dv, x, dv - x < W ? int(dv - x) : W, o);
}

// acc[k][r] = partial sums (lanes over the head dim) of q[r] . k-th key row, for K keys.
template <class V, int R, int K>
inline void dots(const float* q, int64_t d, const float* k, int64_t ks, float (*part)[V::W][V::W], int j) {
  using T = typename V::T;
  constexpr int W = V::W;
  T acc[K][R];
  for (int i = 0; i < K; ++i)
    for (int r = 0; r < R; ++r) acc[i][r] = V::zero();
  auto step = [&](int64_t x, int c) {  // c < W: masked loads of the last c lanes
    T kv[K];
    for (int i = 0; i < K; ++i) kv[i] = c < W ? V::load_n(k + (j + i) * ks + x, c) : V::load(k + (j + i) * ks + x);
    for (int r = 0; r < R; ++r) {
      const T qv = c < W ? V::load_n(q + r * d + x, c) : V::load(q + r * d + x);
      for (int i = 0; i < K; ++i) acc[i][r] = V::fmadd(qv, kv[i], acc[i][r]);
    }
  };
  int64_t x = 0;
  for (; x + W <= d; x += W) step(x, W);
  if (x < d) step(x, int(d - x));
  for (int i = 0; i < K; ++i)
    for (int r = 0; r < R; ++r) V::store(part[r][j + i], acc[i][r]);
}

// s[r][j] = q[r] . k[j] for r < R, j < nk <= W: a few keys at a time, R vectors of
// partial sums over the head dim per key (each key's row read once); then per row, the
// W keys' partial sums transposed and added, so lane j holds key j's score.
template <class V, int R>
inline void scores(const float* q, int64_t d, const float* k, int64_t ks, int nk, float (*s)[V::W]) {
  using T = typename V::T;
  constexpr int W = V::W;
  alignas(64) float part[R][W][W];
  constexpr int K = R <= 4 ? 4 : 2;  // keys per pass: K x R sums fit the registers
  int j = 0;
  for (; j + K <= nk; j += K) dots<V, R, K>(q, d, k, ks, part, j);
  for (; j < nk; ++j) dots<V, R, 1>(q, d, k, ks, part, j);
  for (int r = 0; r < R; ++r) {
    T t[W];
    for (int i = 0; i < W; ++i) t[i] = i < nk ? V::load(part[r][i]) : V::zero();
    V::transpose(t);
    for (int h = W / 2; h > 0; h /= 2)  // a tree: the chain of adds is log2(W) long
      for (int w = 0; w < h; ++w) t[w] = V::add(t[w], t[w + h]);
    V::store(s[r], t[0]);
  }
}

// One key range for R rows, W keys at a time: scores, softcap, masking, the online
// softmax update (as softmax<V> in attention_simd.h), then P.V.
template <class V, int R>
void decode_rows(const DecodeRange& a) {
  constexpr int W = V::W;
  constexpr int64_t kAhead = 128;
  alignas(64) float s[R][W];
  float alpha[R];
  for (int64_t b0 = 0; b0 < a.nk; b0 += W) {
    const int n = a.nk - b0 < W ? int(a.nk - b0) : W;
    const int64_t j0 = a.j0 + b0;  // key index of lane 0
    // K and V rows kAhead keys on are asked for now: a thread's stream of rows from
    // memory otherwise waits on each line in turn.
    for (int64_t j = b0 + kAhead; j < b0 + kAhead + W && j < a.nk; ++j) {
      for (int64_t x = 0; x < a.d; x += 16) __builtin_prefetch(a.k + j * a.ks + x);
      for (int64_t x = 0; x < a.dv; x += 16) __builtin_prefetch(a.v + j * a.vs + x);
    }
    scores<V, R>(a.q, a.d, a.k + b0 * a.ks, a.ks, n, s);
    if (a.cap > 0) a.softcap(&s[0][0], int64_t(R) * W, a.cap);
    for (int r = 0; r < R; ++r) {
      // Lanes [first, end) are keys row r sees.
      const int64_t first = a.lo[r] - j0 < 0 ? 0 : a.lo[r] - j0 > n ? n : a.lo[r] - j0;
      const int64_t end = a.hi[r] - j0 < first ? first : a.hi[r] - j0 > n ? n : a.hi[r] - j0;
      if (first > 0 || end < W)
        for (int j = 0; j < W; ++j)
          if (j < first || j >= end) s[r][j] = kMaskedScore;
      const typename V::T sv = V::load(s[r]);
      const float bm = V::reduce_max(sv);
      const float mx = bm > a.m[r] || bm != bm ? bm : a.m[r];  // NaN wins, as in softmax<V>
      const typename V::T p = V::exp2(V::sub(sv, V::set1(mx)));
      V::store(s[r], p);
      alignas(64) float e[W];
      V::store(e, V::exp2(V::set1(a.m[r] - mx)));
      alpha[r] = e[0];
      a.l[r] = a.l[r] * alpha[r] + V::reduce_add(p);
      a.m[r] = mx;
    }
    axpy_rows<V, R>(s, alpha, n, a.v + b0 * a.vs, a.vs, a.dv, a.o);
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
