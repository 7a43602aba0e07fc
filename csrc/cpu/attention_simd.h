// The attention phases (attention_kernels.h) written once over a vector type V, for the
// ISA files to instantiate. Included only by *_avx2.cpp / *_avx512.cpp; everything here
// has internal linkage so the differently-compiled copies never meet at link time.
//
// V is one of the shared vector types (vec_avx512.h, vec_avx2.h: T, W, load, store, set1,
// zero, fmadd, add, sub, mul, max, min, abs, copysign) plus the attention tile shape: Q
// (query vectors per tile, tile_q = Q*W), KR (keys per Q.K^T micro-tile), DR (value
// columns per P.V micro-tile), and exp2(x) for x <= 0 (any finite x). Micro-tiles are KR x Q and DR x Q accumulators: with 32
// registers about 24 of them, leaving room for the Q (or P) operands and a broadcast.
// Every lane (query) goes through the same operations in the same order whatever W and
// Q are, so all widths give bit-identical results.
#pragma once
#include <cmath>
#include <cstdint>

#include "attention_decode_kernel.h"
#include "attention_kernels.h"
#include "rows.h"
#include "transpose8.h"

namespace subq::cpu {
namespace {

// 2^f on [0, 1), degree 5 with p(0) = 1: relative error 1.6e-7 in fp32 (fitted to
// minimise the relative error). Callers split x = n + f with n = floor(x).
constexpr float kExp2C1 = 6.931512952e-01f, kExp2C2 = 2.401644588e-01f, kExp2C3 = 5.579990894e-02f,
                kExp2C4 = 9.017038159e-03f, kExp2C5 = 1.867126324e-03f;

template <class V>
inline typename V::T exp2_poly(typename V::T f) {
  using T = typename V::T;
  T p = V::fmadd(V::set1(kExp2C5), f, V::set1(kExp2C4));
  p = V::fmadd(p, f, V::set1(kExp2C3));
  p = V::fmadd(p, f, V::set1(kExp2C2));
  p = V::fmadd(p, f, V::set1(kExp2C1));
  return V::fmadd(p, f, V::set1(1.0f));
}

// ---- The matrix products, one micro-kernel: R rows x Q query vectors of accumulators,
//   out[r][:] = init + sum_{i < n} a(r, i) * b[i][:],   b[i] a row of TQ lanes,
// with a(r, i) = a[r*as + i] (Inner: each row of a contiguous) or a[i*as + r] (Rows).
// init is 0, out * scale, or out.
enum class Layout { Inner, Rows };
enum class Init { Zero, Scale, Keep };

template <class V, int R, Layout L, Init I>
inline void micro(const float* b, int64_t n, const float* a, int64_t as, float* out, const float* scale) {
  using T = typename V::T;
  constexpr int W = V::W, Q = V::Q, TQ = Q * W;
  T acc[R][Q];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) {
      if constexpr (I == Init::Zero) acc[r][c] = V::zero();
      else if constexpr (I == Init::Scale) acc[r][c] = V::mul(V::load(out + r * TQ + c * W), V::load(scale + c * W));
      else acc[r][c] = V::load(out + r * TQ + c * W);
    }
#pragma GCC unroll 4
  for (int64_t i = 0; i < n; ++i) {
    T q[Q];
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) q[c] = V::load(b + i * TQ + c * W);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const T ab = V::set1(L == Layout::Inner ? a[r * as + i] : a[i * as + r]);
#pragma GCC unroll 8
      for (int c = 0; c < Q; ++c) acc[r][c] = V::fmadd(ab, q[c], acc[r][c]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) V::store(out + r * TQ + c * W, acc[r][c]);
}

// out rows [0, rows), R at a time; a row step of a is `step` elements.
template <class V, int R, Layout L, Init I>
inline void micro_rows(int64_t rows, const float* b, int64_t n, const float* a, int64_t step, int64_t as,
                       float* out, const float* scale) {
  constexpr int TQ = V::Q * V::W;
  by_rows<R>(rows, [&](auto h, int64_t r) {
    micro<V, decltype(h)::value, L, I>(b, n, a + r * step, as, out + r * TQ, scale);
  });
}

// ---- S^T = K Q^T: rows of K against Q^T, over the head dim.
template <class V>
void qk(const float* qt, int64_t d, const float* k, int64_t ks, int64_t nk, float* s) {
  micro_rows<V, V::KR, Layout::Inner, Init::Zero>(nk, qt, d, k, ks, ks, s, nullptr);
}

// ---- softcap: cap * tanh(s), tanh(a) = (e - 1) / (e + 1) with e = 2^(2 a log2(e)), a = |s|.
// tanh is 1 in fp32 beyond |s| = 9, where the clamp keeps e finite. Below a = 1/8, e - 1
// cancels (a large cap puts every score there): the series a (1 - a^2/3 + 2a^4/15 -
// 17a^6/315) instead, within an ulp.
template <class V>
void softcap(float* s, int64_t n, float cap) {
  using T = typename V::T;
  const T c = V::set1(cap), k = V::set1(2.8853900817779268f), lim = V::set1(9.0f), one = V::set1(1.0f);
  const T c3 = V::set1(-1.f / 3), c5 = V::set1(2.f / 15), c7 = V::set1(-17.f / 315), small = V::set1(0.125f);
  for (int64_t i = 0; i < n; i += V::W) {
    const T x = V::load(s + i);
    const T a = V::min(V::abs(x), lim);
    const T e = V::exp2(V::mul(a, k));
    const T a2 = V::mul(a, a);
    const T series = V::mul(a, V::fmadd(a2, V::fmadd(a2, V::fmadd(a2, c7, c5), c3), one));
    const T t = V::select_gt(a, small, V::div(V::sub(e, one), V::add(e, one)), series);
    V::store(s + i, V::mul(c, V::copysign(t, x)));
  }
}

// ---- online softmax over a block, all query vectors at once: Q independent chains for the
// sums, and 2Q for the max (two keys per step), as one chain is bound by the latency.
template <class V>
void softmax(float* s, int64_t nk, float* m, float* l, float* alpha) {
  using T = typename V::T;
  constexpr int W = V::W, Q = V::Q, TQ = Q * W;
  T mx[Q], mx1[Q], sum[Q];
#pragma GCC unroll 8
  for (int c = 0; c < Q; ++c) mx[c] = mx1[c] = V::load(m + c * W);
  int64_t j = 0;
  for (; j + 2 <= nk; j += 2)
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) {
      mx[c] = V::max(mx[c], V::load(s + j * TQ + c * W));
      mx1[c] = V::max(mx1[c], V::load(s + (j + 1) * TQ + c * W));
    }
  if (j < nk)
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) mx[c] = V::max(mx[c], V::load(s + j * TQ + c * W));
#pragma GCC unroll 8
  for (int c = 0; c < Q; ++c) {
    mx[c] = V::max(mx[c], mx1[c]);
    sum[c] = V::zero();
  }
  for (j = 0; j < nk; ++j)
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) {
      float* x = s + j * TQ + c * W;
      const T p = V::exp2(V::sub(V::load(x), mx[c]));
      V::store(x, p);
      sum[c] = V::add(sum[c], p);
    }
#pragma GCC unroll 8
  for (int c = 0; c < Q; ++c) V::store(alpha + c * W, advance_lanes<V>(m + c * W, l + c * W, mx[c], sum[c]));
}

// The step of softmax on rows with their keys in the lanes (AttentionKernels::softmax_rows):
// the max, 2^(s - m') by the same exp2, the sum in key order from 0 as softmax's lane
// chain, and l = fma(l, alpha, sum) as advance_lanes. The rows' sums advance together: R
// chains, where one row at a time waited on each add.
template <class V, int R>
void softmax_rows_of(float* s, int64_t ss, int64_t nk, float* m, float* l, float* alpha) {
  using T = typename V::T;
  constexpr int W = V::W;
  float sum[R];
  for (int r = 0; r < R; ++r) {
    float* x = s + r * ss;
    T mx = V::set1(m[r]);
    for (int64_t j = 0; j < nk; j += W) mx = V::max(mx, V::load(x + j));
    const T mv = V::set1(V::reduce_max(mx));
    for (int64_t j = 0; j < nk; j += W) V::store(x + j, V::exp2(V::sub(V::load(x + j), mv)));
    alignas(64) float a[W], mn[W];
    V::store(a, V::exp2(V::sub(V::set1(m[r]), mv)));
    V::store(mn, mv);
    m[r] = mn[0];
    alpha[r] = a[0];
    sum[r] = 0.f;
  }
  for (int64_t j = 0; j < nk; ++j)
    for (int r = 0; r < R; ++r) sum[r] += s[r * ss + j];
  for (int r = 0; r < R; ++r) l[r] = std::fma(l[r], alpha[r], sum[r]);
}

template <class V>
void softmax_rows(float* s, int64_t ss, int rows, int64_t nk, float* m, float* l, float* alpha) {
  as_rows<kDecodeRows>(rows, [&](auto h) { softmax_rows_of<V, decltype(h)::value>(s, ss, nk, m, l, alpha); });
}

// ---- O^T = O^T * alpha + V^T P^T, over keys in chunks whose P^T stays in L1 while every
// row group of O^T passes over it (a whole block's P^T re-read per group came from L2).
// Chunks are even, as a short last chunk pays the accumulator loads and stores for little
// work. alpha applies on the first chunk only.
template <class V, Layout L>
void pv_chunks(const float* p, int64_t nk, const float* v, int64_t vs, int64_t dv, float* ot, const float* alpha) {
  constexpr int TQ = V::Q * V::W;
  constexpr int64_t kMaxChunk = 6144 / TQ;  // 24 KiB of P^T
  const int64_t chunks = (nk + kMaxChunk - 1) / kMaxChunk, step = chunks ? (nk + chunks - 1) / chunks : 0;
  // In V^T a value row is a row of v and a key is a column; in V the reverse.
  const int64_t row_step = L == Layout::Inner ? vs : 1, key_step = L == Layout::Inner ? 1 : vs;
  for (int64_t j = 0; j < nk; j += step) {
    const int64_t n = nk - j < step ? nk - j : step;
    if (j == 0) micro_rows<V, V::DR, L, Init::Scale>(dv, p, n, v, row_step, vs, ot, alpha);
    else micro_rows<V, V::DR, L, Init::Keep>(dv, p + j * TQ, n, v + j * key_step, row_step, vs, ot, nullptr);
  }
}

template <class V>
void pv(const float* p, int64_t nk, const float* vt, int64_t vts, int64_t dv, float* ot, const float* alpha) {
  pv_chunks<V, Layout::Inner>(p, nk, vt, vts, dv, ot, alpha);
}

template <class V>
void pv_rows(const float* p, int64_t nk, const float* v, int64_t vs, int64_t dv, float* ot, const float* alpha) {
  pv_chunks<V, Layout::Rows>(p, nk, v, vs, dv, ot, alpha);
}

template <class V>
constexpr AttentionKernels kernels_for() {
  return AttentionKernels{V::Q * V::W, qk<V>, softcap<V>, softmax<V>, softmax_rows<V>, pv<V>, pv_rows<V>, transpose_words<float>, decode<V>};
}

}  // namespace
}  // namespace subq::cpu
