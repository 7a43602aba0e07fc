// The integer Q.K^T micro-kernel over an integer vector type I, for the ISA files to
// instantiate (internal linkage only). I supplies: T (W int32 lanes), load (of 4 * W
// int8), q_xor (the offset the staged Q' carries, quant_kernels.h), bcast4 (four int8 in
// every lane), dot4(acc, q, k) adding per lane the dot product of four int8 pairs,
// start(ksum) the accumulator that undoes that offset (-128 * ksum for Q' + 128), and F,
// the float vector type of the same width (vec_*.h).
// R keys x Q query vectors of accumulators, as attention_simd.h's micro-kernel.
// pv 'int8' (PvInt) also needs: dot4u (four u8 x s8 products, P' the u8 operand),
// round_u8 (core/quant_rule.h's round_u8 on fp32 lanes: v + kRoundU8 truncated, the sum
// in fp32) and pack4.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "../core/quant_params.h"
#include "../core/quant_rule.h"
#include "quant_kernels.h"
#include "rows.h"

namespace subq::cpu {
namespace {

template <class I, int Q, int R>
inline void qk_micro(const QkInt& a, int64_t j0) {
  using T = typename I::T;
  using F = typename I::F;
  constexpr int W = I::W;
  T acc[R][Q];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    const T start = I::start(a.ksum[j0 + r]);
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) acc[r][c] = start;
  }
  const int8_t* k = a.k + j0 * a.ks;
  for (int64_t i = 0; i < a.d4; ++i) {
    T q[Q];
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) q[c] = I::load(a.qt + (i * a.tq + c * W) * 4);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const T k4 = I::bcast4(k + r * a.ks + i * 4);
#pragma GCC unroll 8
      for (int c = 0; c < Q; ++c) acc[r][c] = I::dot4(acc[r][c], q[c], k4);
    }
  }
  // The fields in locals: the vector stores below may alias anything, so GCC would reload
  // every field of `a` after each one (a third of this function's time at D = 64).
  const float *const kscale = a.kscale, *const kterm = a.kterm;
  float* const out = a.s + j0 * a.tq;
  const int64_t tq = a.tq;
  typename F::T qs[Q], bias[Q];
#pragma GCC unroll 8
  for (int c = 0; c < Q; ++c) qs[c] = F::load(a.qscale + c * W), bias[c] = F::load(a.bias + c * W);
  auto scores = [&](auto with_kterm) {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const auto ks = F::set1(kscale[j0 + r]);
#pragma GCC unroll 8
      for (int c = 0; c < Q; ++c) {
        auto s = F::fmadd(I::to_float(acc[r][c]), F::mul(qs[c], ks), bias[c]);
        if constexpr (decltype(with_kterm)::value) s = F::add(s, F::set1(kterm[j0 + r]));
        F::store(out + r * tq + c * W, s);
      }
    }
  };
  if (kterm)
    scores(std::true_type{});
  else
    scores(std::false_type{});
}

// A tile of tq = Q * W lanes, R keys at a time.
template <class I, int Q, int R>
void qk_rows(const QkInt& a) {
  by_rows<R>(a.nk, [&](auto rows, int64_t j) { qk_micro<I, Q, decltype(rows)::value>(a, j); });
}

// ---- pv 'int8' (quant_kernels.h's PvInt).

// P^T of a key range quantized into a.p4 and a.pscale, Q vectors of W lanes at a time (a
// tile of tq lanes is tq / (Q * W) such runs): per lane and group of kPBlock keys the max
// of t = P * vscale, then t * (255 / max) rounded (round_u8). Products, a quotient and
// compares only, and round_u8's sum takes the rounded product: every ISA gives the same bits.
template <class I, int Q>
inline void quant_p(const PvInt& a) {
  using F = typename I::F;
  constexpr int W = I::W;
  // Locals: the vector stores may alias anything, so fields of `a` would be reloaded.
  const int64_t nk = a.nk, tq = a.tq;
  const float *const vscale = a.vscale, *const pt = a.p;
  float* const pscale = a.pscale;
  int32_t* const p4 = reinterpret_cast<int32_t*>(a.p4);
  for (int64_t j0 = 0, g = 0; j0 < nk; j0 += kPBlock, ++g) {
    const int64_t j1 = std::min(nk, j0 + kPBlock);
    for (int64_t c0 = 0; c0 < tq; c0 += Q * W) {
      const float* p = pt + c0;
      typename F::T m[Q], inv[Q];
#pragma GCC unroll 8
      for (int c = 0; c < Q; ++c) m[c] = F::zero();
      for (int64_t j = j0; j < j1; ++j) {
        const auto sv = F::set1(vscale[j]);
#pragma GCC unroll 8
        for (int c = 0; c < Q; ++c) m[c] = F::max(F::mul(F::load(p + j * tq + c * W), sv), m[c]);
      }
#pragma GCC unroll 8
      for (int c = 0; c < Q; ++c) {
        inv[c] = F::select_gt(m[c], F::zero(), F::div(F::set1(255.f), m[c]), F::zero());
        F::store(pscale + g * tq + c0 + c * W, F::div(m[c], F::set1(255.f)));
      }
      for (int64_t j = j0; j < j1; j += 4) {
        typename I::T b[4][Q];
#pragma GCC unroll 4
        for (int x = 0; x < 4; ++x) {
          if (j + x < j1) {
            const auto sv = F::set1(vscale[j + x]);
#pragma GCC unroll 8
            for (int c = 0; c < Q; ++c) b[x][c] = I::round_u8(F::mul(F::mul(F::load(p + (j + x) * tq + c * W), sv), inv[c]));
          } else {
#pragma GCC unroll 8
            for (int c = 0; c < Q; ++c) b[x][c] = I::zero();
          }
        }
#pragma GCC unroll 8
        for (int c = 0; c < Q; ++c) I::store(p4 + j / 4 * tq + c0 + c * W, I::pack4(b[0][c], b[1][c], b[2][c], b[3][c]));
      }
    }
  }
}

// Output columns x0 .. x0+R-1 of O^T, Q lane vectors: O^T rescaled by the softmax step,
// then per group an exact int32 sum of P' x V' in registers, added to O^T in memory with
// the group's scale. O^T stays in memory so that every register but P's holds a sum:
// R x Q of them, as the Q.K^T tile.
template <class I, int Q, int R>
inline void pv_micro(const PvInt& a, int64_t x0) {
  using T = typename I::T;
  using F = typename I::F;
  constexpr int W = I::W;
  // Locals: the vector stores may alias anything, so fields of `a` would be reloaded.
  const int64_t tq = a.tq, vts = a.vts, n4 = (a.nk + 3) / 4;
  const int8_t* const vt = a.vt + x0 * vts;
  const uint32_t* const p4 = a.p4;
  const float *const pscale = a.pscale, *const alpha = a.alpha;
  float* const ot = a.ot + x0 * tq;
  // The softmax step's rescale first, in a pass of its own: the groups' additions then
  // take one form (a branch in them made GCC spill the sums).
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) F::store(ot + r * tq + c * W, F::mul(F::load(ot + r * tq + c * W), F::load(alpha + c * W)));
  for (int64_t i0 = 0, g = 0; i0 < n4; i0 += kPBlock / 4, ++g) {
    const int64_t i1 = std::min(n4, i0 + kPBlock / 4);
    T acc[R][Q];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int c = 0; c < Q; ++c) acc[r][c] = I::zero();
    for (int64_t i = i0; i < i1; ++i) {
      T p[Q];
#pragma GCC unroll 8
      for (int c = 0; c < Q; ++c) p[c] = I::load(reinterpret_cast<const int8_t*>(p4 + i * tq + c * W));
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        const T v4 = I::bcast4(vt + r * vts + 4 * i);
#pragma GCC unroll 8
        for (int c = 0; c < Q; ++c) acc[r][c] = I::dot4u(acc[r][c], p[c], v4);
      }
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int c = 0; c < Q; ++c) {
        float* const o = ot + r * tq + c * W;
        F::store(o, F::fmadd(I::to_float(acc[r][c]), F::load(pscale + g * tq + c * W), F::load(o)));
      }
  }
}

// pv 'int8' on a tile of tq = Q * W lanes: P quantized, then R output columns at a time.
template <class I, int Q, int R>
void pv_rows(const PvInt& a) {
  quant_p<I, Q>(a);
  by_rows<R>(a.dv, [&](auto rows, int64_t x) { pv_micro<I, Q, decltype(rows)::value>(a, x); });
}

// The micro-tile shape of one tile width: Q lane vectors, KR keys per Q.K^T step and DR
// output columns per P.V step (as many sums as the ISA's registers hold).
template <int Q_, int KR_, int DR_>
struct QuantTile {
  static constexpr int Q = Q_, KR = KR_, DR = DR_;
};

// Calls f(T) for the tile T of Tiles with q lane vectors; the last for any other q.
template <class T, class... More, class F>
inline void by_tile(int q, F&& f) {
  if constexpr (sizeof...(More) > 0)
    if (q != T::Q) return by_tile<More...>(q, f);
  f(T{});
}

// An ISA's tile shapes (QuantTile...) and its table's qk and pv over integer type I: the
// tile's width picks the micro-tile shape.
template <class... Tiles>
struct QuantTiles {
  template <class I>
  static void qk(const QkInt& a) {
    by_tile<Tiles...>(a.tq / I::W, [&](auto t) { qk_rows<I, decltype(t)::Q, decltype(t)::KR>(a); });
  }
  template <class I>
  static void pv(const PvInt& a) {
    by_tile<Tiles...>(a.tq / I::W, [&](auto t) { pv_rows<I, decltype(t)::Q, decltype(t)::DR>(a); });
  }
};

// One group of rows quantized (quantize's rule, quant_kernels.h; quantize_value of
// core/quant_rule.h): the scale from max |y| over F's lanes (the maximum of the non-NaN
// values: maxps keeps its second operand where the first is NaN, so NaN is skipped, in any
// order), then the values. Written with F: GCC 12 left the partial-maxima loop scalar.
template <class F>
inline float quantize_group(const float* y, int64_t rows, int64_t d, int bits, uint8_t* dst) {
  const int qmax = bits == 8 ? 127 : 7;
  constexpr int W = F::W;
  const int64_t n = rows * d;
  auto part = F::zero();
  int64_t i = 0;
  for (; i + W <= n; i += W) part = F::max(F::abs(F::load(y + i)), part);
  float lanes[W];
  F::store(lanes, part);
  float amax = 0;
  for (; i < n; ++i) amax = std::fabs(y[i]) > amax ? std::fabs(y[i]) : amax;
  for (int l = 0; l < W; ++l) amax = lanes[l] > amax ? lanes[l] : amax;
  const float s = amax / float(qmax);
  const int64_t rb = bits == 8 ? d : (d + 1) / 2;
  if (!(s > 0)) {
    std::fill(dst, dst + rows * rb, uint8_t(0));
    return s;
  }
  for (int64_t r = 0; r < rows; ++r) {
    const float* yr = y + r * d;
    uint8_t* out = dst + r * rb;
    if (bits == 8) {
      for (int64_t c = 0; c < d; ++c) out[c] = uint8_t(int8_t(quantize_value(yr[c] / s, qmax)));
      continue;
    }
    // Pairs of values into bytes, element 2i in the low nibble; an odd last one alone.
    for (int64_t c = 0; c < d / 2; ++c)
      out[c] = uint8_t((quantize_value(yr[2 * c] / s, qmax) & 15) | (quantize_value(yr[2 * c + 1] / s, qmax) & 15) << 4);
    if (d % 2) out[d / 2] = uint8_t(quantize_value(yr[d - 1] / s, qmax) & 15);
  }
  return s;
}

// One quantized row to fp32 (quant_value's rule: -128 and -8 read as -127 and -7), in
// plain loops the ISA flags vectorise.
inline void dequant(const uint8_t* row, int bits, int64_t n, float scale, float* dst) {
  if (bits == 8) {
    for (int64_t x = 0; x < n; ++x) {
      const int v = int8_t(row[x]);
      dst[x] = float(v < -127 ? -127 : v) * scale;
    }
    return;
  }
  for (int64_t i = 0; i < n / 2; ++i) {
    const int lo = int8_t(uint8_t(row[i] << 4)) >> 4, hi = int8_t(row[i]) >> 4;
    dst[2 * i] = float(lo < -7 ? -7 : lo) * scale;
    dst[2 * i + 1] = float(hi < -7 ? -7 : hi) * scale;
  }
  if (n % 2) {
    const int lo = int8_t(uint8_t(row[n / 2] << 4)) >> 4;
    dst[n - 1] = float(lo < -7 ? -7 : lo) * scale;
  }
}

}  // namespace
}  // namespace subq::cpu
