// The attention phases (attention_kernels.h) written once over a vector type V, for the
// ISA files to instantiate. Included only by *_avx2.cpp / *_avx512.cpp; everything here
// has internal linkage so the differently-compiled copies never meet at link time.
//
// V provides: T (the register type), W (lanes), Q (query vectors per tile, tile_q = Q*W),
// KR (keys per Q.K^T micro-tile), DR (value columns per P.V micro-tile), and load, store,
// set1, zero, fma(a, b, c) = a*b + c, add, sub, mul, div, max, min, abs, copysign (of a
// non-negative magnitude), exp2. Micro-tiles are KR x Q and DR x Q accumulators: with 32
// registers about 24 of them, leaving room for the Q (or P) operands and a broadcast.
// Every lane (query) goes through the same operations in the same order whatever W and
// Q are, so all widths give bit-identical results.
#pragma once
#include <cstdint>

#include "attention_kernels.h"

namespace subq::cpu {
namespace {

// 2^f on [0, 1), degree 5 with p(0) = 1: relative error 1.6e-7 in fp32 (fitted to
// minimise the relative error). Callers split x = n + f with n = floor(x).
constexpr float kExp2C1 = 6.931512952e-01f, kExp2C2 = 2.401644588e-01f, kExp2C3 = 5.579990894e-02f,
                kExp2C4 = 9.017038159e-03f, kExp2C5 = 1.867126324e-03f;

template <class V>
inline typename V::T exp2_poly(typename V::T f) {
  using T = typename V::T;
  T p = V::fma(V::set1(kExp2C5), f, V::set1(kExp2C4));
  p = V::fma(p, f, V::set1(kExp2C3));
  p = V::fma(p, f, V::set1(kExp2C2));
  p = V::fma(p, f, V::set1(kExp2C1));
  return V::fma(p, f, V::set1(1.0f));
}

// ---- S^T = K Q^T: R keys x Q query vectors of accumulators, looping over the head dim.
template <class V, int R>
inline void qk_micro(const float* qt, int64_t d, const float* k, int64_t ks, float* s) {
  using T = typename V::T;
  constexpr int W = V::W, Q = V::Q, TQ = Q * W;
  T acc[R][Q];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) acc[r][c] = V::zero();
#pragma GCC unroll 4
  for (int64_t x = 0; x < d; ++x) {
    T q[Q];
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) q[c] = V::load(qt + x * TQ + c * W);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const T kb = V::set1(k[r * ks + x]);
#pragma GCC unroll 8
      for (int c = 0; c < Q; ++c) acc[r][c] = V::fma(kb, q[c], acc[r][c]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) V::store(s + r * TQ + c * W, acc[r][c]);
}

template <class V, int R>
inline void qk_tail(int rest, const float* qt, int64_t d, const float* k, int64_t ks, float* s) {
  if constexpr (R > 0) {
    if (rest == R) return qk_micro<V, R>(qt, d, k, ks, s);
    qk_tail<V, R - 1>(rest, qt, d, k, ks, s);
  }
}

template <class V>
void qk(const float* qt, int64_t d, const float* k, int64_t ks, int64_t nk, float* s) {
  constexpr int TQ = V::Q * V::W;
  int64_t j = 0;
  for (; j + V::KR <= nk; j += V::KR) qk_micro<V, V::KR>(qt, d, k + j * ks, ks, s + j * TQ);
  qk_tail<V, V::KR - 1>(int(nk - j), qt, d, k + j * ks, ks, s + j * TQ);
}

// ---- softcap: cap * tanh(s), tanh(a) = (e - 1) / (e + 1) with e = 2^(2 a log2(e)), a = |s|.
// tanh is 1 in fp32 beyond |s| = 9, where the clamp keeps e finite.
template <class V>
void softcap(float* s, int64_t n, float cap) {
  using T = typename V::T;
  const T c = V::set1(cap), k = V::set1(2.8853900817779268f), lim = V::set1(9.0f), one = V::set1(1.0f);
  for (int64_t i = 0; i < n; i += V::W) {
    const T x = V::load(s + i);
    const T e = V::exp2(V::mul(V::min(V::abs(x), lim), k));
    const T t = V::div(V::sub(e, one), V::add(e, one));
    V::store(s + i, V::mul(c, V::copysign(t, x)));
  }
}

// ---- online softmax over a block, one query vector at a time.
template <class V>
void softmax(float* s, int64_t nk, float* m, float* l, float* alpha) {
  using T = typename V::T;
  constexpr int W = V::W, TQ = V::Q * W;
  for (int c = 0; c < V::Q; ++c) {
    float* col = s + c * W;
    const T m_old = V::load(m + c * W);
    T mx0 = m_old, mx1 = m_old;  // two chains hide the max latency
    int64_t j = 0;
    for (; j + 2 <= nk; j += 2) {
      mx0 = V::max(mx0, V::load(col + j * TQ));
      mx1 = V::max(mx1, V::load(col + (j + 1) * TQ));
    }
    if (j < nk) mx0 = V::max(mx0, V::load(col + j * TQ));
    const T mx = V::max(mx0, mx1);
    T sum0 = V::zero(), sum1 = V::zero();
    for (j = 0; j + 2 <= nk; j += 2) {
      const T p0 = V::exp2(V::sub(V::load(col + j * TQ), mx));
      const T p1 = V::exp2(V::sub(V::load(col + (j + 1) * TQ), mx));
      V::store(col + j * TQ, p0);
      V::store(col + (j + 1) * TQ, p1);
      sum0 = V::add(sum0, p0);
      sum1 = V::add(sum1, p1);
    }
    if (j < nk) {
      const T p0 = V::exp2(V::sub(V::load(col + j * TQ), mx));
      V::store(col + j * TQ, p0);
      sum0 = V::add(sum0, p0);
    }
    const T a = V::exp2(V::sub(m_old, mx));
    V::store(alpha + c * W, a);
    V::store(m + c * W, mx);
    V::store(l + c * W, V::fma(V::load(l + c * W), a, V::add(sum0, sum1)));
  }
}

// ---- O^T = O^T * alpha + V^T P^T: R value columns x Q query vectors, looping over keys.
// `scale` is alpha on a block's first key chunk and null after it.
template <class V, int R>
inline void pv_micro(const float* p, int64_t nk, const float* v, int64_t vs, float* ot, const float* scale) {
  using T = typename V::T;
  constexpr int W = V::W, Q = V::Q, TQ = Q * W;
  T acc[R][Q];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c)
      acc[r][c] = scale ? V::mul(V::load(ot + r * TQ + c * W), V::load(scale + c * W)) : V::load(ot + r * TQ + c * W);
#pragma GCC unroll 4
  for (int64_t j = 0; j < nk; ++j) {
    T pj[Q];
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) pj[c] = V::load(p + j * TQ + c * W);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const T vb = V::set1(v[j * vs + r]);
#pragma GCC unroll 8
      for (int c = 0; c < Q; ++c) acc[r][c] = V::fma(vb, pj[c], acc[r][c]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) V::store(ot + r * TQ + c * W, acc[r][c]);
}

template <class V, int R>
inline void pv_tail(int rest, const float* p, int64_t nk, const float* v, int64_t vs, float* ot,
                    const float* scale) {
  if constexpr (R > 0) {
    if (rest == R) return pv_micro<V, R>(p, nk, v, vs, ot, scale);
    pv_tail<V, R - 1>(rest, p, nk, v, vs, ot, scale);
  }
}

// Keys are taken in chunks whose P^T (16 KiB) stays in L1 while every column group of
// O^T passes over it: a whole block's P^T re-read per group came from L2.
template <class V>
void pv(const float* p, int64_t nk, const float* v, int64_t vs, int64_t dv, float* ot, const float* alpha) {
  constexpr int TQ = V::Q * V::W;
  constexpr int64_t kChunk = 4096 / TQ;
  for (int64_t j = 0; j < nk; j += kChunk) {
    const int64_t n = nk - j < kChunk ? nk - j : kChunk;
    const float* pj = p + j * TQ;
    const float* vj = v + j * vs;
    const float* scale = j == 0 ? alpha : nullptr;
    int64_t x = 0;
    for (; x + V::DR <= dv; x += V::DR) pv_micro<V, V::DR>(pj, n, vj + x, vs, ot + x * TQ, scale);
    pv_tail<V, V::DR - 1>(int(dv - x), pj, n, vj + x, vs, ot + x * TQ, scale);
  }
}

template <class V>
constexpr AttentionKernels kernels_for() {
  return AttentionKernels{V::Q * V::W, qk<V>, softcap<V>, softmax<V>, pv<V>};
}

}  // namespace
}  // namespace subq::cpu
