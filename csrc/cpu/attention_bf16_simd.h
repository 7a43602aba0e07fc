// The bf16 matrix phases (attention_bf16_kernels.h) written once over a vector type V,
// for the AVX512-BF16 file to instantiate; internal linkage, like attention_simd.h.
//
// V: the fp32 vector ops of vec_avx512.h (T, W, zero, set1, load, store, mul), the tile
// shape (Q query vectors per tile, KR keys per Q.K^T micro-tile, DR value columns per P.V
// micro-tile) and the pair ops: Pair (32 bf16 lanes in zmm, 16 in ymm), load_pairs,
// bcast (one 32-bit pair into every lane), dot (acc + a.even * b.even + a.odd * b.odd
// per fp32 lane: vdpbf16ps), round_pairs (two fp32 vectors rounded to bf16, nearest
// even, interleaved lane by lane) and store_pairs.
//
// The micro-tiles mirror the fp32 ones (attention_simd.h): KR x Q (or DR x Q)
// accumulators, Q pair vectors loaded and one broadcast per row per step, but each
// step covers two elements of the head dim (Q.K^T) or two keys (P.V), so the
// same instruction count does twice the work. Every lane sees the same operations in
// the same order at every width: zmm and ymm give the same bits.
#pragma once
#include <cstdint>

#include "attention_bf16_kernels.h"
#include "rows.h"
#include "transpose8.h"

namespace subq::cpu {
namespace {

// The pair of k[0], k[1] as one word; k need not be 4-byte aligned.
inline uint32_t pair_at(const uint16_t* k) {
  uint32_t x;
  __builtin_memcpy(&x, k, sizeof x);
  return x;
}

// ---- S^T = scale * K Q^T over pairs of the head dim.
template <class V, int R>
inline void qk_micro(const uint32_t* qt2, int64_t d, const uint16_t* k, int64_t ks, float scale, float* s) {
  using T = typename V::T;
  using P = typename V::Pair;
  constexpr int W = V::W, Q = V::Q, TQ = Q * W;
  T acc[R][Q];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) acc[r][c] = V::zero();
  // Step i: Q^T pair row i against pair i of each K row (for odd d, the last pair of
  // K is k[d-1] and a zero: k[d] lies outside the row).
  auto step = [&](int64_t i, bool half) {
    P q[Q];
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) q[c] = V::load_pairs(qt2 + i * TQ + c * W);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const uint16_t* kr = k + r * ks + 2 * i;
      const P b = V::bcast(half ? uint32_t(*kr) : pair_at(kr));
#pragma GCC unroll 8
      for (int c = 0; c < Q; ++c) acc[r][c] = V::dot(acc[r][c], q[c], b);
    }
  };
  const int64_t n = d / 2;
#pragma GCC unroll 4
  for (int64_t i = 0; i < n; ++i) step(i, false);
  if (d % 2) step(n, true);
  const T sc = V::set1(scale);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) V::store(s + r * TQ + c * W, V::mul(acc[r][c], sc));
}

template <class V>
void qk(const uint32_t* qt2, int64_t d, const uint16_t* k, int64_t ks, int64_t nk, float scale, float* s) {
  constexpr int TQ = V::Q * V::W;
  by_rows<V::KR>(nk, [&](auto rows, int64_t j) {
    qk_micro<V, decltype(rows)::value>(qt2, d, k + j * ks, ks, scale, s + j * TQ);
  });
}

// ---- P^T in bf16 pairs of keys: rows 2i and 2i+1 of P^T interleaved into pair row i.
template <class V>
void round_p(const float* p, int64_t nk, uint32_t* p2) {
  constexpr int W = V::W, Q = V::Q, TQ = Q * W;
  for (int64_t j = 0; j < nk; j += 2)
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) {
      const float* even = p + j * TQ + c * W;
      const auto odd = j + 1 < nk ? V::load(even + TQ) : V::zero();
      V::store_pairs(p2 + j / 2 * TQ + c * W, V::round_pairs(V::load(even), odd));
    }
}

// ---- O^T = O^T * alpha + V^T P^T over key pairs. The P^T pairs of a block stay in L1
// (at most 192 keys x 64 lanes x 2 bytes = 24 KiB) while every row group of O^T passes
// over them, so no chunking as in the fp32 P.V.
template <class V, int R>
inline void pv_micro(const uint32_t* p2, int64_t n, const uint32_t* vt2, int64_t vts, float* ot, const float* alpha) {
  using T = typename V::T;
  using P = typename V::Pair;
  constexpr int W = V::W, Q = V::Q, TQ = Q * W;
  T acc[R][Q];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) acc[r][c] = V::mul(V::load(ot + r * TQ + c * W), V::load(alpha + c * W));
#pragma GCC unroll 4
  for (int64_t i = 0; i < n; ++i) {
    P pp[Q];
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) pp[c] = V::load_pairs(p2 + i * TQ + c * W);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const P b = V::bcast(vt2[r * vts + i]);
#pragma GCC unroll 8
      for (int c = 0; c < Q; ++c) acc[r][c] = V::dot(acc[r][c], pp[c], b);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) V::store(ot + r * TQ + c * W, acc[r][c]);
}

template <class V>
void pv(const uint32_t* p2, int64_t nk, const uint32_t* vt2, int64_t vts, int64_t dv, float* ot, const float* alpha) {
  constexpr int TQ = V::Q * V::W;
  const int64_t n = (nk + 1) / 2;
  by_rows<V::DR>(dv, [&](auto rows, int64_t x) {
    pv_micro<V, decltype(rows)::value>(p2, n, vt2 + x * vts, vts, ot + x * TQ, alpha);
  });
}

inline void pair_rows(const uint16_t* a, const uint16_t* b, int64_t n, uint32_t* out) {
  if (b)
    for (int64_t x = 0; x < n; ++x) out[x] = uint32_t(a[x]) | uint32_t(b[x]) << 16;
  else
    for (int64_t x = 0; x < n; ++x) out[x] = a[x];
}

template <class V>
constexpr AttentionBf16Kernels bf16_kernels_for() {
  return AttentionBf16Kernels{V::Q * V::W, qk<V>, round_p<V>, pv<V>, pair_rows, transpose_words<uint32_t>};
}

}  // namespace
}  // namespace subq::cpu
