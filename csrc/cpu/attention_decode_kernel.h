// Decode rows over a vector type V (a vec_*.h type plus exp2(x) for x <= 0): a few
// query rows against many keys. The tile kernels would fill their 24-48 query lanes
// with these few rows; here the head dim is in the lanes instead, so each key costs
// one dot product and one axpy per row, and the kernel runs at the speed of reading K
// and V. fp16/bf16 keys and values are widened as they are loaded (no staging copy).
#pragma once
#include <cstdint>
#include <type_traits>

#include "../core/dtype.h"
#include "attention_kernels.h"
#include "rows.h"

namespace subq::cpu {
namespace {

// Key and value elements as stored (E), widened to fp32 vectors on load.
template <class V, DType E>
struct KvElems {
  using Elem = std::conditional_t<E == DType::F32, float, uint16_t>;
  static typename V::T load(const Elem* p) {
    if constexpr (E == DType::F32) return V::load(p);
    else if constexpr (E == DType::BF16) return V::load_bf16(p);
    else return V::load_f16(p);
  }
  // The first n lanes, n < W; the rest 0.
  static typename V::T load_n(const Elem* p, int n) {
    if constexpr (E == DType::F32) return V::load_n(p, n);
    else if constexpr (E == DType::BF16) return V::load_bf16_n(p, n);
    else return V::load_f16_n(p, n);
  }
};

// o[r][:] = o[r][:] * alpha[r] + sum_{j < nk} p[r*ps + j] * v[j*vs + :] for r < R, C
// vectors of columns from x at a time (c valid lanes in the last), the R x C sums in
// registers. pf != 0: each line of row j is loaded with a prefetch of row j's line pf
// elements on (see decode_rows).
template <class V, class KV, int R, int C>
inline void axpy_cols(const float* p, int ps, const float* alpha, int nk, const typename KV::Elem* v, int64_t vs,
                      int64_t dv, int64_t x, int c, float* o, int64_t pf) {
  using T = typename V::T;
  constexpr int W = V::W;
  // Lane counts: whole vectors but for a partial last one (masked loads and stores).
  auto load = [&](const float* at, int i) { return i + 1 < C || c == W ? V::load(at) : V::load_n(at, c); };
  T acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int i = 0; i < C; ++i) acc[r][i] = V::mul(load(o + r * dv + x + i * W, i), V::set1(alpha[r]));
  for (int j = 0; j < nk; ++j) {
    T vv[C];
    for (int i = 0; i < C; ++i) {
      const auto* at = v + j * vs + x + i * W;
      prefetch_line(at, x + i * W, pf);
      vv[i] = i + 1 < C || c == W ? KV::load(at) : KV::load_n(at, c);
    }
    for (int r = 0; r < R; ++r) {
      const T pj = V::set1(p[r * ps + j]);
      for (int i = 0; i < C; ++i) acc[r][i] = V::fmadd(pj, vv[i], acc[r][i]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int i = 0; i < C; ++i)
      if (i + 1 < C || c == W) V::store(o + r * dv + x + i * W, acc[r][i]);
      else V::store_n(o + r * dv + x + i * W, acc[r][i], c);
}

template <class V, class KV, int R>
inline void axpy_rows(const float* p, int ps, const float* alpha, int nk, const typename KV::Elem* v, int64_t vs,
                      int64_t dv, float* o, int64_t pf) {
  constexpr int W = V::W;
  constexpr int C = R <= 4 ? 4 : 2;  // columns per pass: R x C sums fit the registers
  int64_t x = 0;
  for (; x + C * W <= dv; x += C * W) axpy_cols<V, KV, R, C>(p, ps, alpha, nk, v, vs, dv, x, W, o, pf);
  for (; x < dv; x += W) axpy_cols<V, KV, R, 1>(p, ps, alpha, nk, v, vs, dv, x, dv - x < W ? int(dv - x) : W, o, pf);
}

// part[r][j + i] = partial sums (lanes over the head dim) of q[r] . key j + i, i < K;
// prefetches as in axpy_cols.
template <class V, class KV, int R, int K>
inline void dots(const float* q, int64_t d, const typename KV::Elem* k, int64_t ks, float (*part)[V::W][V::W],
                 int j, int64_t pf) {
  using T = typename V::T;
  constexpr int W = V::W;
  T acc[K][R];
  for (int i = 0; i < K; ++i)
    for (int r = 0; r < R; ++r) acc[i][r] = V::zero();
  auto step = [&](int64_t x, int c) {  // c < W: masked loads of the last c lanes
    T kv[K];
    for (int i = 0; i < K; ++i) {
      const auto* at = k + (j + i) * ks + x;
      prefetch_line(at, x, pf);
      kv[i] = c < W ? KV::load_n(at, c) : KV::load(at);
    }
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

// s[r*ss + j] = q[r] . k[j] for r < R, j < nk <= W: a few keys at a time, R vectors of
// partial sums over the head dim per key (each key's row read once); then per row, the
// W keys' partial sums summed across lanes, so lane j holds key j's score.
template <class V, class KV, int R>
inline void scores(const float* q, int64_t d, const typename KV::Elem* k, int64_t ks, int nk, float* s, int ss,
                   int64_t pf) {
  using T = typename V::T;
  constexpr int W = V::W;
  alignas(64) float part[R][W][W];
  constexpr int K = R <= 4 ? 4 : 2;  // keys per pass: K x R sums fit the registers
  int j = 0;
  for (; j + K <= nk; j += K) dots<V, KV, R, K>(q, d, k, ks, part, j, pf);
  for (; j < nk; ++j) dots<V, KV, R, 1>(q, d, k, ks, part, j, pf);
  for (int r = 0; r < R; ++r) {
    T t[W];
    for (int i = 0; i < W; ++i) t[i] = i < nk ? V::load(part[r][i]) : V::zero();
    V::store(s + r * ss, V::lane_sums(t));
  }
}

// Keys per online-softmax step: kDecodeVectors vectors of scores. One max, one rescale
// of the R x dv sums and one pass over V's columns per step: at a single vector (16
// keys) these cost a fifth of the time (measured on a Zen 5).
constexpr int kDecodeVectors = 4;

// One key range for R rows, KB keys at a time: scores, softcap, masking, the online
// softmax update (as softmax<V> in attention_simd.h), then P.V.
template <class V, DType E, int R>
void decode_rows(const DecodeRange& a) {
  using T = typename V::T;
  using KV = KvElems<V, E>;
  constexpr int W = V::W, KB = kDecodeVectors * W;
  // Each line of K and V is read with a prefetch of the same line some keys on (rows.h's
  // ahead_keys and prefetch_line).
  const auto* k = static_cast<const typename KV::Elem*>(a.k);
  const auto* v = static_cast<const typename KV::Elem*>(a.v);
  alignas(64) float s[R][KB];
  float alpha[R];
  auto ahead = [&](int64_t at, int64_t rows) { return ahead_keys(a.nk, at, rows, a.nk); };
  for (int64_t b0 = 0; b0 < a.nk; b0 += KB) {
    const int n = a.nk - b0 < KB ? int(a.nk - b0) : KB, nv = (n + W - 1) / W;  // keys, vectors of them
    const int64_t j0 = a.j0 + b0;  // key index of lane 0
    for (int w = 0; w < nv; ++w) {
      const int64_t at = b0 + w * W;
      scores<V, KV, R>(a.q, a.d, k + at * a.ks, a.ks, n - w * W < W ? n - w * W : W, &s[0][w * W], KB,
                       ahead(at, W) * a.ks);
    }
    if (a.cap > 0)
      for (int r = 0; r < R; ++r) a.softcap(s[r], int64_t(nv) * W, a.cap);
    for (int r = 0; r < R; ++r) {
      // Lanes [first, end) are keys row r sees.
      const int64_t first = a.lo[r] - j0 < 0 ? 0 : a.lo[r] - j0 > n ? n : a.lo[r] - j0;
      const int64_t end = a.hi[r] - j0 < first ? first : a.hi[r] - j0 > n ? n : a.hi[r] - j0;
      if (first > 0 || end < nv * W)
        for (int j = 0; j < nv * W; ++j)
          if (j < first || j >= end) s[r][j] = kMaskedScore;
      T mv = V::load(s[r]);
      for (int w = 1; w < nv; ++w) mv = V::max(mv, V::load(s[r] + w * W));
      const float mx = running_max(a.m[r], V::reduce_max(mv));
      const T mxv = V::set1(mx);
      T sum = V::zero();
      for (int w = 0; w < nv; ++w) {
        const T p = V::exp2(V::sub(V::load(s[r] + w * W), mxv));
        V::store(s[r] + w * W, p);
        sum = V::add(sum, p);
      }
      alpha[r] = advance_row<V>(a.m[r], a.l[r], mx, V::reduce_add(sum), V::exp2);
    }
    axpy_rows<V, KV, R>(&s[0][0], KB, alpha, n, v + b0 * a.vs, a.vs, a.dv, a.o, ahead(b0, KB) * a.vs);
  }
}

template <class V, DType E>
void decode_as(const DecodeRange& a) {
  as_rows<kDecodeRows>(a.rows, [&](auto rows) { decode_rows<V, E, decltype(rows)::value>(a); });
}

template <class V>
void decode(const DecodeRange& a) {
  switch (a.dtype) {
    case DType::BF16: return decode_as<V, DType::BF16>(a);
    case DType::F16: return decode_as<V, DType::F16>(a);
    default: return decode_as<V, DType::F32>(a);
  }
}

}  // namespace
}  // namespace subq::cpu
