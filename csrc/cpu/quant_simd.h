// The integer Q.K^T micro-kernel over an integer vector type I, for the ISA files to
// instantiate (internal linkage only). I supplies: T (W int32 lanes), load (of 4 * W
// int8), prepare (a Q vector as dot4 wants it), dot4(acc, q, k4) adding per lane the
// dot product of four int8 pairs, fix(acc, ksum) undoing any offset prepare applied,
// and F, the float vector type of the same width (vec_*.h).
// R keys x Q query vectors of accumulators, as attention_simd.h's micro-kernel.
#pragma once
#include <cstdint>
#include <cstring>

#include "quant_kernels.h"

namespace subq::cpu {
namespace {

template <class I, int Q, int R>
inline void qk_micro(const QkInt& a, int64_t j0) {
  using T = typename I::T;
  using F = typename I::F;
  constexpr int W = I::W;
  T acc[R][Q];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) acc[r][c] = I::zero();
  const int8_t* k = a.k + j0 * a.ks;
  for (int64_t i = 0; i < a.d4; ++i) {
    T q[Q];
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) q[c] = I::prepare(I::load(a.qt + (i * a.tq + c * W) * 4));
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      int32_t k4;
      std::memcpy(&k4, k + r * a.ks + i * 4, 4);
      const T kb = I::set1(k4);
#pragma GCC unroll 8
      for (int c = 0; c < Q; ++c) acc[r][c] = I::dot4(acc[r][c], q[c], kb);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    const int64_t j = j0 + r;
    const auto ks = F::set1(a.kscale[j]);
#pragma GCC unroll 8
    for (int c = 0; c < Q; ++c) {
      const auto x = I::to_float(I::fix(acc[r][c], a.ksum[j]));
      const auto t = F::mul(F::load(a.qscale + c * W), ks);
      F::store(a.s + j * a.tq + c * W, F::fmadd(x, t, F::load(a.bias + c * W)));
    }
  }
}

template <class I, int Q, int R>
inline void qk_tail(int rows, const QkInt& a, int64_t j0) {
  if constexpr (R > 0) {
    if (rows == R) return qk_micro<I, Q, R>(a, j0);
    qk_tail<I, Q, R - 1>(rows, a, j0);
  }
}

// A tile of tq = Q * W lanes, R keys at a time.
template <class I, int Q, int R>
void qk_rows(const QkInt& a) {
  int64_t j = 0;
  for (; j + R <= a.nk; j += R) qk_micro<I, Q, R>(a, j);
  qk_tail<I, Q, R - 1>(int(a.nk - j), a, j);
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
