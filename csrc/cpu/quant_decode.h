// Quantized decode over an integer vector type I (quant_simd.h's, plus load_k, load_k_dot
// (K' as dot4's K operand), load_v, load_v4, load32, store and fold) and its float type I::F:
// a few query rows against a long int8/int4 cache, read in place. As
// attention_decode_kernel.h, the head dim is in the lanes:
// per key and row one integer dot product (dot4 over 4 * W values a step), whose W
// partial sums per key are folded (I::fold) so that lane j holds key j's score.
// The integer sum is exact; it becomes a score as float(sum) * (qs * ks) (+ smoothQ's
// term), then softcap, masking and the online softmax step of the fp32 decode. P.V folds
// each key's V' scale into p and converts V' to fp32 in registers. The kernel reads
// 1 (INT8) or 1/2 (INT4) byte per K and V value: the memory traffic of the call.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "../core/quant_params.h"
#include "attention_kernels.h"
#include "attention_plan.h"
#include "attention_rows.h"
#include "quant_kernels.h"
#include "rows.h"

namespace subq::cpu {
namespace {

// 4 * W K' values from column x of a row as dot4's K operand (I::load_k_dot): in place, or (the row's last partial step,
// tail) through a zero-padded copy; with the prefetch of the line pf bytes on (rows.h's
// prefetch_line, qdecode_rows).
template <class I>
inline typename I::T qd_k(const uint8_t* row, int bits, int64_t d, int64_t x, int64_t pf, bool tail) {
  constexpr int64_t n = 4 * I::W;
  const int64_t off = bits == 8 ? x : x / 2;
  prefetch_line(row + off, off, pf);
  if (!tail) return I::load_k_dot(row + off, bits);
  alignas(64) uint8_t buf[n] = {};
  std::memcpy(buf, row + off, size_t(bits == 8 ? d - x : (d - x + 1) / 2));
  return I::load_k_dot(buf, bits);
}

// acc[i][r] = lane partial sums of Q'_r . K'_(j + i) for i < K keys. The partial last step
// goes first, while no sum is live: its copy (a call) would otherwise keep all K x R sums
// on the stack through the whole loop. The sums are exact, so the order is free.
template <class I, int R, int K>
inline void qd_dot_sums(const QDecode& a, const uint8_t* k, int j, int64_t pf, typename I::T (&acc)[K][R]) {
  using T = typename I::T;
  constexpr int64_t n = 4 * I::W;
  const int64_t full = a.d / n * n;
  auto step = [&](int64_t x, bool tail) {
    T kv[K];
    for (int i = 0; i < K; ++i) kv[i] = qd_k<I>(k + (j + i) * a.kb, a.kbits, a.d, x, pf, tail);
    for (int r = 0; r < R; ++r) {
      const T qv = I::load(a.q + r * a.dq + x);
      for (int i = 0; i < K; ++i) acc[i][r] = I::dot4(acc[i][r], kv[i], qv);
    }
  };
  for (int i = 0; i < K; ++i)
    for (int r = 0; r < R; ++r) acc[i][r] = I::zero();
  if (full < a.d) step(full, true);
  for (int64_t x = 0; x < full; x += n) step(x, false);
}

// W V' values (as fp32) from column x of a row, c of them valid.
template <class I>
inline typename I::F::T qd_v(const uint8_t* row, int bits, int64_t x, int c) {
  if (c == I::W) return I::load_v(row, bits, x);
  const int64_t off = bits == 8 ? x : x / 2;  // x is a multiple of W: even
  alignas(64) uint8_t buf[I::W] = {};
  std::memcpy(buf, row + off, size_t(bits == 8 ? c : (c + 1) / 2));
  return I::load_v(buf, bits, 0);
}

// C vectors of V' values (as fp32) from column x of a row, c valid lanes in the last; with
// pf != 0 the prefetches first (as qd_k).
template <class I, int C>
inline void qd_v_cols(const uint8_t* row, int bits, int64_t x, int c, int64_t pf, typename I::F::T (&vv)[C]) {
  constexpr int W = I::W;
  if (pf)
    for (int i = 0; i < C; ++i) {
      const int64_t off = bits == 8 ? x + i * W : (x + i * W) / 2;
      prefetch_line(row + off, off, pf);
    }
  if constexpr (C == 4)
    if (c == W) return I::load_v4(row, bits, x, vv);  // 4 * W values unpacked at once
  for (int i = 0; i < C; ++i)
    vv[i] = i + 1 < C || c == W ? I::load_v(row, bits, x + i * W) : qd_v<I>(row, bits, x + i * W, c);
}

// dst[j] = the scale of key j0 + j for j < n (groups of `group` keys), 0 beyond: one
// division per W keys, not one per key.
template <int W>
inline void qd_scales(const float* sc, int64_t group, int64_t j0, int n, float* dst) {
  int64_t g = j0 / group, left = group - j0 % group;  // keys left in group g
  for (int j = 0; j < W; ++j) {
    dst[j] = j < n ? sc[g] : 0.f;
    if (--left == 0) ++g, left = group;
  }
}

// part[r][j + i] = lane partial sums of Q'_r . K'_(j + i) for i < K keys.
template <class I, int R, int K>
inline void qd_dots(const QDecode& a, const uint8_t* k, int32_t (*part)[I::W][I::W], int j, int64_t pf) {
  typename I::T acc[K][R];
  qd_dot_sums<I, R, K>(a, k, j, pf, acc);
  for (int i = 0; i < K; ++i)
    for (int r = 0; r < R; ++r) I::store(part[r][j + i], acc[i][r]);
}

// The same sums for keys j..j + K - 1 and R rows with K * R == W, folded at once: lane
// i * R + r holds Q'_r . K'_(j + i).
template <class I, int R, int K>
inline typename I::T qd_dots_folded(const QDecode& a, const uint8_t* k, int j, int64_t pf) {
  using T = typename I::T;
  T acc[K][R];
  qd_dot_sums<I, R, K>(a, k, j, pf, acc);
  T v[I::W];
  for (int i = 0; i < K; ++i)
    for (int r = 0; r < R; ++r) v[i * R + r] = acc[i][r];
  return I::fold(v);
}

// s[r][j] for the nk <= W keys from k on (key index j0 of lane 0): integer sums, scaled.
template <class I, int R>
inline void qd_scores(const QDecode& a, const uint8_t* k, int nk, int64_t j0, const float* ks, float* s, int64_t ss,
                      int64_t pf) {
  using T = typename I::T;
  using F = typename I::F;
  constexpr int W = I::W;
  constexpr int K = W == 16 ? (R <= 4 ? 4 : 2) : (R <= 4 ? 2 : 1);  // K x R sums in registers
  const typename F::T kv = F::load(ks);
  T sums[R];
  // Four keys x four rows folded per pass, then regrouped by row (I::rows4, where the ISA
  // has it): no round trip of the partial sums through memory.
  constexpr bool kRows4 = R == 4 && K * R == W && requires(T * t) { I::rows4(t, t); };
  if (kRows4 && nk == W) {
    if constexpr (kRows4) {
      T f[4];
      for (int g = 0; g < 4; ++g) f[g] = qd_dots_folded<I, R, K>(a, k, g * K, pf);
      I::rows4(f, sums);
    }
  } else {
    alignas(64) int32_t part[R][W][W];
    int j = 0;
    for (; j + K <= nk; j += K) qd_dots<I, R, K>(a, k, part, j, pf);
    for (; j < nk; ++j) qd_dots<I, R, 1>(a, k, part, j, pf);
    for (int r = 0; r < R; ++r) {
      T t[W];
      for (int i = 0; i < W; ++i) t[i] = i < nk ? I::load32(part[r][i]) : I::zero();
      sums[r] = I::fold(t);
    }
  }
  for (int r = 0; r < R; ++r) {
    const typename F::T x = I::to_float(I::fix(sums[r], a.qsum[r]));
    const typename F::T t = F::mul(F::set1(a.qs[r]), kv);
    // With a bias (pv 'int8'), the tiles' fma (quant_simd.h's qk_micro).
    typename F::T v = a.bias ? F::fmadd(x, t, F::set1(a.bias[r])) : F::mul(x, t);
    if (a.qm) v = F::add(v, F::load_n(a.qm[r] + j0, nk));
    F::store(s + r * ss, v);
  }
}

// o[r][:] = o[r][:] * alpha[r] + sum_{j < nk} p[r][j] * V_j, C vectors of columns from x
// at a time (c valid lanes in the last); prefetches as qd_k. V_j is V'_j (p already times
// the V' scales) or, with kRoundV (pv 'bf16'), V'_j * vs[j] rounded to bf16 as the tiles stage it
// (F::round_bf16, core/half.h's rule).
template <class I, int R, int C, bool kRoundV>
inline void qd_axpy_cols(const QDecode& a, const float* p, int64_t ps, const float* alpha, int nk, const uint8_t* v,
                         int64_t x, int c, int64_t pf, const float* vs) {
  using F = typename I::F;
  using T = typename F::T;
  constexpr int W = I::W;
  auto lanes = [&](int i) { return i + 1 < C ? W : c; };
  T acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int i = 0; i < C; ++i) {
      const T o = lanes(i) == W ? F::load(a.o + r * a.dv + x + i * W) : F::load_n(a.o + r * a.dv + x + i * W, c);
      acc[r][i] = F::mul(o, F::set1(alpha[r]));
    }
  for (int j = 0; j < nk; ++j) {
    T vv[C];
    qd_v_cols<I, C>(v + j * a.vb, a.vbits, x, c, pf, vv);
    if constexpr (kRoundV)
      for (int i = 0; i < C; ++i) vv[i] = F::round_bf16(F::mul(vv[i], F::set1(vs[j])));
    for (int r = 0; r < R; ++r) {
      const T pj = F::set1(p[r * ps + j]);
      for (int i = 0; i < C; ++i) acc[r][i] = F::fmadd(pj, vv[i], acc[r][i]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int i = 0; i < C; ++i)
      if (lanes(i) == W) F::store(a.o + r * a.dv + x + i * W, acc[r][i]);
      else F::store_n(a.o + r * a.dv + x + i * W, acc[r][i], c);
}

template <class I, int R, bool kRoundV = false>
inline void qd_axpy(const QDecode& a, const float* p, int64_t ps, const float* alpha, int nk, const uint8_t* v,
                    int64_t pf, const float* vs = nullptr) {
  constexpr int W = I::W;
  constexpr int C = W == 16 ? (R <= 4 ? 4 : 2) : W == 8 ? (R <= 2 ? 4 : R <= 4 ? 2 : 1) : 4;
  int64_t x = 0;
  for (; x + C * W <= a.dv; x += C * W) qd_axpy_cols<I, R, C, kRoundV>(a, p, ps, alpha, nk, v, x, W, pf, vs);
  for (; x < a.dv; x += W) qd_axpy_cols<I, R, 1, kRoundV>(a, p, ps, alpha, nk, v, x, a.dv - x < W ? int(a.dv - x) : W, pf, vs);
}

// One key range for R rows, NB * W keys a step (decode_rows in attention_decode_kernel.h, with
// the integer scores and V' read in place): one softmax rescale and one pass over the
// rows' outputs per NB vectors of keys.
template <class I, int R>
void qdecode_rows(const QDecode& a) {
  using F = typename I::F;
  using T = typename F::T;
  constexpr int W = I::W, NB = 4, B = NB * W;
  // Each line of K' and V' is read with a prefetch of the same line some keys on, as in
  // decode_rows (rows.h's ahead_keys and prefetch_line).
  alignas(64) float s[R][B], kbuf[B], vbuf[B];
  float alpha[R];
  auto ahead = [&](int64_t at, int64_t rows) { return ahead_keys(a.nk, at, rows, a.nk); };
  for (int64_t b0 = 0; b0 < a.nk; b0 += B) {
    const int n = a.nk - b0 < B ? int(a.nk - b0) : B;
    const int64_t j0 = a.j0 + b0;  // key index of lane 0
    // The keys' K' and V' scales: read in place where they are one per key (token
    // granularity) and the step is whole, else spread from their groups.
    auto scales = [&](const float* sc, int64_t group, float* buf) {
      if (group == 1 && n == B) return sc + j0;
      qd_scales<B>(sc, group, j0, n, buf);
      return static_cast<const float*>(buf);
    };
    const float *ks = scales(a.ksc, a.kgroup, kbuf), *vs = scales(a.vsc, a.vgroup, vbuf);
    for (int v = 0; v < NB; ++v)
      if (v * W < n)
        qd_scores<I, R>(a, a.k + (j0 + v * W) * a.kb, n - v * W < W ? n - v * W : W, j0 + v * W, ks + v * W,
                        &s[0][v * W], B, ahead(b0 + v * W, W) * a.kb);
      else
        for (int r = 0; r < R; ++r) F::store(s[r] + v * W, F::zero());  // masked below
    if (a.cap > 0) a.softcap(&s[0][0], int64_t(R) * B, a.cap);
    for (int r = 0; r < R; ++r) {
      // Lanes [first, end) are keys row r sees.
      const int64_t first = a.lo[r] - j0 < 0 ? 0 : a.lo[r] - j0 > n ? n : a.lo[r] - j0;
      const int64_t end = a.hi[r] - j0 < first ? first : a.hi[r] - j0 > n ? n : a.hi[r] - j0;
      if (first > 0 || end < B)
        for (int j = 0; j < B; ++j)
          if (j < first || j >= end) s[r][j] = kMaskedScore;
      float mx = a.m[r];
      for (int v = 0; v < NB; ++v) mx = running_max(mx, F::reduce_max(F::load(s[r] + v * W)));
      T sum = F::zero();
      for (int v = 0; v < NB; ++v) {
        const T p = F::exp2_mul(F::sub(F::load(s[r] + v * W), F::set1(mx)), F::set1(1.f));
        sum = F::add(sum, p);
        F::store(s[r] + v * W, F::mul(p, F::load(vs + v * W)));  // V' scales folded into P
      }
      alpha[r] = advance_row<F>(a.m[r], a.l[r], mx, F::reduce_add(sum), [](T x) { return F::exp2_mul(x, F::set1(1.f)); });
    }
    qd_axpy<I, R>(a, &s[0][0], B, alpha, n, a.v + j0 * a.vb, ahead(b0, B) * a.vb);
  }
}

template <class I>
void qdecode(const QDecode& a) {
  as_rows<kDecodeRows>(a.rows, [&](auto rows) { qdecode_rows<I, decltype(rows)::value>(a); });
}

// ---- pv 'int8' (docs/semantics.md): the tiled path's steps for R rows, each row's keys in
// the lanes. The tiles step over key blocks of kBlockK from key 0, each cut to the rows'
// band [j0, j0 + nk) and started at its kPBlock group; per block the scores (their fma of the
// bias), the softmax step of the attention kernels (softmax_rows: the same exp2 and sums),
// P quantized per row and group as quant_simd.h's quant_p (the same fp32 operations per
// value), and per group O = O * alpha (first group) + float(sum_j P'_j V'_j) * pscale. The
// group's sum runs on integer dot products where the table has them (qd_pv8_int), else in
// fp32 (qd_pv8_cols): every partial sum is an integer below 64 * 255 * 127 < 2^24, so each
// fma is exact. Either is the tiles' int32 sum, hence the tiled path's bits.

// O[r][x..] for C vectors of columns from x (c valid lanes in the last) and the keys
// [j0, j1) of group g: p holds P' (as fp32) [R][ps], pscale[r] the group's scales.
template <class I, int R, int C>
inline void qd_pv8_cols(const QDecode& a, const float* p, int64_t ps, const float* pscale, int64_t pss,
                        const float* alpha, int g, int j0, int j1, const uint8_t* v, int64_t x, int c, int64_t pf) {
  using F = typename I::F;
  using T = typename F::T;
  constexpr int W = I::W;
  auto lanes = [&](int i) { return i + 1 < C ? W : c; };
  T acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int i = 0; i < C; ++i) acc[r][i] = F::zero();
  for (int j = j0; j < j1; ++j) {
    T vv[C];
    qd_v_cols<I, C>(v + j * a.vb, a.vbits, x, c, pf, vv);
    for (int r = 0; r < R; ++r) {
      const T pj = F::set1(p[r * ps + j]);
      for (int i = 0; i < C; ++i) acc[r][i] = F::fmadd(pj, vv[i], acc[r][i]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int i = 0; i < C; ++i) {
      float* o = a.o + r * a.dv + x + i * W;
      T ov = lanes(i) == W ? F::load(o) : F::load_n(o, c);
      if (g == 0) ov = F::mul(ov, F::set1(alpha[r]));
      ov = F::fmadd(acc[r][i], F::set1(pscale[r * pss]), ov);
      if (lanes(i) == W) F::store(o, ov);
      else F::store_n(o, ov, c);
    }
}

// Where the table has u8 x s8 dot products on 64 columns (I::quad: VNNI), a group's P'.V'
// runs on them, 4 rows at a time: 4 keys' V' rows (64 columns each) interleaved per quad, so
// each int32 lane takes four keys' products of one column, against the rows' P' bytes
// broadcast (4 keys per dword). The int32 sums are the exact ones, so the same bits as the
// fp32 sums; a dot product per 4 keys and 16 columns where the fp32 sums take 4 FMAs and
// 4 conversions.
template <class I>
constexpr bool kPv8Int = requires(typename I::T* t) { I::quad(t, t); };

// O[r][x .. x + 63] (rows of o, dv apart) for the keys [j0, j1) of group g (P' bytes pb
// [R][pbs], zero past the block's keys; a quad's rows past j1 are read as row j1 - 1, times
// those zeros).
template <class I, int R>
inline void qd_pv8_int(const QDecode& a, float* o, const uint8_t* pb, int64_t pbs, const float* pscale, int64_t pss,
                       const float* alpha, int g, int j0, int j1, const uint8_t* v, int64_t x, int64_t pf) {
  using T = typename I::T;
  using F = typename I::F;
  T acc[R][4];
  for (int r = 0; r < R; ++r)
    for (int i = 0; i < 4; ++i) acc[r][i] = I::zero();
  const int64_t off = a.vbits == 8 ? x : x / 2;
  // prefetch_line's test (rows.h), out of quad: inside, it cost quad its inlining (GCC 12).
  const int64_t lpf = line_ahead<uint8_t>(off, pf);
  // The quad of keys j.. (n of them in range), its bits a constant.
  auto quad = [&](int j, int n, auto bits) {
    T k[4], u[4];
    const uint8_t* row = v + j * a.vb + off;
    for (int i = 0; i < 4; ++i) {
      const uint8_t* ri = row + (i < n ? i : n - 1) * a.vb;
      if (lpf) __builtin_prefetch(ri + lpf);
      k[i] = I::load_k(ri, bits());
    }
    I::quad(k, u);
    for (int r = 0; r < R; ++r) {
      int32_t w;
      std::memcpy(&w, pb + r * pbs + j, 4);
      const T p = I::set1(w);
      for (int i = 0; i < 4; ++i) acc[r][i] = I::dot4(acc[r][i], p, u[i]);
    }
  };
  auto run = [&](auto bits) {
    int j = j0;
    for (; j + 4 <= j1; j += 4) quad(j, 4, bits);
    if (j < j1) quad(j, j1 - j, bits);
  };
  if (a.vbits == 8) run(std::integral_constant<int, 8>());
  else run(std::integral_constant<int, 4>());
  for (int r = 0; r < R; ++r) {
    T sums[4];
    I::unquad(acc[r], sums);
    for (int m = 0; m < 4; ++m) {
      float* om = o + r * a.dv + x + 16 * m;
      typename F::T ov = F::load(om);
      if (g == 0) ov = F::mul(ov, F::set1(alpha[r]));
      F::store(om, F::fmadd(I::to_float(sums[m]), F::set1(pscale[r * pss]), ov));
    }
  }
}

// The tiled path's key blocks over a QDecode range for R rows: blocks of kBlockK from key 0,
// each cut to the rows' band [a.j0, a.j0 + a.nk) with its start moved down to a multiple of
// `align` (the keys before it lie outside the band, masked, as the tiles move theirs); per
// block the scores (the tiles' fma of the bias), softcap, masks and the softmax step
// (softmax_rows), then pv(s, vs, j0, n, alpha, pf) with P in s [R][kBlockK] (0 past the
// block's n keys from key j0), the keys' V' scales vs and the V prefetch distance in bytes.
template <class I, int R, class Pv>
inline void qd_blocks(const QDecode& a, int64_t align, Pv&& pv) {
  constexpr int W = I::W;
  constexpr int64_t BK = kBlockK;
  static_assert(BK % W == 0 && BK % 32 == 0, "whole vectors, whole bf16 pair vectors");
  alignas(64) float s[R][BK], kbuf[BK], vbuf[BK];
  float alpha[R];
  const int64_t end = a.j0 + a.nk;
  auto ahead = [&](int64_t at, int64_t rows) { return ahead_keys(a.nk, at, rows, end); };
  for (int64_t b0 = a.j0 / BK * BK; b0 < end; b0 += BK) {
    const int64_t j0 = std::max(b0, a.j0) / align * align, j1 = std::min(b0 + BK, end);  // the tiles' cut
    const int n = int(j1 - j0);
    auto scales = [&](const float* sc, int64_t group, float* buf) {
      if (group == 1 && n == BK) return sc + j0;
      qd_scales<BK>(sc, group, j0, n, buf);
      return static_cast<const float*>(buf);
    };
    const float *ks = scales(a.ksc, a.kgroup, kbuf), *vs = scales(a.vsc, a.vgroup, vbuf);
    for (int x = 0; x < n; x += W)
      qd_scores<I, R>(a, a.k + (j0 + x) * a.kb, n - x < W ? n - x : W, j0 + x, ks + x, &s[0][x], BK,
                      ahead(j0 + x, W) * a.kb);
    if (a.cap > 0) a.softcap(&s[0][0], int64_t(R) * BK, a.cap);
    for (int r = 0; r < R; ++r) {
      // Lanes [first, last) are keys row r sees; the rest, and the block's tail, masked.
      const int64_t first = std::clamp<int64_t>(a.lo[r] - j0, 0, n), last = std::clamp<int64_t>(a.hi[r] - j0, first, n);
      std::fill(s[r], s[r] + first, kMaskedScore);
      std::fill(s[r] + last, s[r] + BK, kMaskedScore);
    }
    a.softmax_rows(&s[0][0], BK, R, n, a.m, a.l, alpha);
    pv(s, vs, j0, n, static_cast<const float*>(alpha), ahead(j0, n) * a.vb);
  }
}

template <class I, int R>
void qdecode_pv8_rows(const QDecode& a) {
  using F = typename I::F;
  using T = typename F::T;
  constexpr int W = I::W;
  constexpr int64_t BK = kBlockK, G = kPBlock, NG = BK / G;
  static_assert(BK % G == 0 && G % W == 0, "whole groups of whole vectors");
  constexpr int C = W == 16 ? (R <= 4 ? 4 : 2) : W == 8 ? (R <= 2 ? 4 : R <= 4 ? 2 : 1) : 4;
  constexpr bool kInt = kPv8Int<I>;
  alignas(64) float pscale[R][NG];
  alignas(64) uint8_t pb[kInt ? R : 1][BK];  // P' as bytes, for qd_pv8_int
  // P is quantized per group of kPBlock keys from key 0: blocks start at their group.
  qd_blocks<I, R>(a, G, [&](float (*s)[BK], const float* vs, int64_t j0, int n, const float* alpha, int64_t) {
    // P' per row and group (quant_p): t = P * s_v, m = max t, P' = round(t * (255 / m)).
    for (int r = 0; r < R; ++r)
      for (int g = 0; g * G < n; ++g) {
        float* p = s[r] + g * G;
        T mx = F::zero();
        for (int64_t x = 0; x < G; x += W) mx = F::max(F::mul(F::load(p + x), F::load(vs + g * G + x)), mx);
        const T m = F::set1(F::reduce_max(mx));
        const T inv = F::select_gt(m, F::zero(), F::div(F::set1(255.f), m), F::zero());
        alignas(64) float sc[W];
        F::store(sc, F::div(m, F::set1(255.f)));
        pscale[r][g] = sc[0];
        for (int64_t x = 0; x < G; x += W) {
          const auto q = I::round_u8(F::mul(F::mul(F::load(p + x), F::load(vs + g * G + x)), inv));
          F::store(p + x, I::to_float(q));
          if constexpr (kInt) I::store_u8(pb[r] + g * G + x, q);
        }
      }
    // Group by group, all columns: a group's V' rows stay in L1 for the second pass.
    const uint8_t* v = a.v + j0 * a.vb;
    const int64_t end = a.j0 + a.nk;
    for (int g = 0; g * G < n; ++g) {
      const int g0 = int(g * G), g1 = std::min(n, int(g0 + G));
      const int64_t pf = ahead_keys(a.nk, j0 + g0, G, end) * a.vb;
      int64_t x = 0;
      // 4 x 4 int32 sums in registers: rows 4 at a time (the quads interleaved again).
      if constexpr (kInt)
        for (; x + 64 <= a.dv; x += 64) {
          constexpr int R0 = R < 4 ? R : 4;
          qd_pv8_int<I, R0>(a, a.o, &pb[0][0], BK, &pscale[0][g], NG, alpha, g, g0, g1, v, x, pf);
          if constexpr (R > 4)
            qd_pv8_int<I, R - 4>(a, a.o + 4 * a.dv, &pb[4][0], BK, &pscale[4][g], NG, alpha + 4, g, g0, g1, v, x, 0);
        }
      for (; x + C * W <= a.dv; x += C * W)
        qd_pv8_cols<I, R, C>(a, &s[0][0], BK, &pscale[0][g], NG, alpha, g, g0, g1, v, x, W, pf);
      for (; x < a.dv; x += W)
        qd_pv8_cols<I, R, 1>(a, &s[0][0], BK, &pscale[0][g], NG, alpha, g, g0, g1, v, x, a.dv - x < W ? int(a.dv - x) : W, pf);
    }
  });
}

template <class I>
void qdecode_pv8(const QDecode& a) {
  as_rows<kDecodeRows>(a.rows, [&](auto rows) { qdecode_pv8_rows<I, decltype(rows)::value>(a); });
}

// ---- pv 'bf16' (docs/semantics.md): P and V rounded to bf16 (nearest even), fp32 sums, in
// the tiled path's steps (qd_blocks), so its bits on each ISA. Where the tiles run the fp32
// P.V (no AVX512-BF16, or SUBQ_BF16_DOT=0), P is rounded by round_to (the tiles' call), V'_j
// dequantized and rounded as the tiles stage it (float(V'_j) * s_v(j), then F::round_bf16),
// and O = O * alpha + sum_j P_j V_j by one fma per key in key order from the block's first
// key, as the tiles' P.V (attention_simd.h's pv_chunks).
template <class I, int R>
void qdecode_bf16_rows(const QDecode& a) {
  constexpr int64_t BK = kBlockK;
  qd_blocks<I, R>(a, 1, [&](float (*s)[BK], const float* vs, int64_t j0, int n, const float* alpha, int64_t pf) {
    for (int r = 0; r < R; ++r) round_to(DType::BF16, s[r], n);
    qd_axpy<I, R, true>(a, &s[0][0], BK, alpha, n, a.v + j0 * a.vb, pf, vs);
  });
}

template <class I>
void qdecode_bf16(const QDecode& a) {
  as_rows<kDecodeRows>(a.rows, [&](auto rows) { qdecode_bf16_rows<I, decltype(rows)::value>(a); });
}

// Where the tiles run the AVX512-BF16 P.V (I::pack_bf16: vcvtne2ps2bf16, I::dot_bf16:
// vdpbf16ps), the same instructions on the same pairs: P rounded by pack_bf16 as the tiles'
// round_p, V'_j as float(V'_j) * s_v(j) rounded to bf16 (the tiles' staging: core/half.h's
// rule, which pack_bf16 follows on normal values; a block with a subnormal or non-finite V
// scale rounds by F::round_bf16 instead), keys paired from the block's start (2i low, 2i + 1
// high), and per lane O = O * alpha, then one vdpbf16ps per key pair in order.
template <class I>
constexpr bool kBf16Dot = requires(typename I::F::T f, typename I::T t) { I::dot_bf16(f, t, t); };

// 32 columns of V'_j (row) from x, times s, as bf16 in column order (c valid, the rest 0).
template <class I, bool Exact>
[[gnu::always_inline]] inline typename I::T qd_bf16_row(const uint8_t* row, int bits, int64_t x, int c, float s) {
  using F = typename I::F;
  constexpr int W = I::W;
  typename F::T v0 = c >= W ? I::load_v(row, bits, x) : qd_v<I>(row, bits, x, c);
  typename F::T v1 = c >= 2 * W ? I::load_v(row, bits, x + W) : c > W ? qd_v<I>(row, bits, x + W, c - W) : F::zero();
  v0 = F::mul(v0, F::set1(s));
  v1 = F::mul(v1, F::set1(s));
  if constexpr (Exact) return I::pack_bf16_exact(v0, v1);
  else return I::pack_bf16(v0, v1);
}

// 64 columns of V'_j from x (all valid), as two qd_bf16_row results.
template <class I, bool Exact>
[[gnu::always_inline]] inline void qd_bf16_row64(const uint8_t* row, int bits, int64_t x, float s, typename I::T (&out)[2]) {
  using F = typename I::F;
  typename F::T v[4];
  I::load_v4(row, bits, x, v);
  for (int i = 0; i < 4; ++i) v[i] = F::mul(v[i], F::set1(s));
  if constexpr (Exact) out[0] = I::pack_bf16_exact(v[0], v[1]), out[1] = I::pack_bf16_exact(v[2], v[3]);
  else out[0] = I::pack_bf16(v[0], v[1]), out[1] = I::pack_bf16(v[2], v[3]);
}

// O[r][x ..] for C units of 32 columns (c valid columns in the last) over the block's n keys
// from v: pw [R][pws] the rows' P pairs, vs the V' scales. The sums are kept in unpack's
// column order (I::to_pairs_order / from_pairs_order).
template <class I, int R, int C, bool Exact, int Bits>
[[gnu::always_inline]] inline void qd_bf16_cols(const QDecode& a, const uint32_t* pw, int64_t pws, const float* vs, const float* alpha, int n,
                         const uint8_t* v, int64_t x, int c, int64_t pf) {
  using F = typename I::F;
  using T = typename I::T;
  using FT = typename F::T;
  constexpr int W = I::W;
  auto cols = [&](int u) { return u + 1 < C ? 2 * W : c; };  // valid columns of unit u
  FT acc[R][C][2];
  for (int r = 0; r < R; ++r)
    for (int u = 0; u < C; ++u) {
      const float* o = a.o + r * a.dv + x + u * 2 * W;
      const int cu = cols(u);
      const FT al = F::set1(alpha[r]);
      const FT o0 = F::mul(cu >= W ? F::load(o) : F::load_n(o, cu), al);
      const FT o1 = F::mul(cu >= 2 * W ? F::load(o + W) : cu > W ? F::load_n(o + W, cu - W) : F::zero(), al);
      I::to_pairs_order(o0, o1, acc[r][u]);
    }
  const int64_t off = Bits == 8 ? x : x / 2;
  const int64_t lpf = line_ahead<uint8_t>(off, pf);
  // Row j's 32-column units, as bf16.
  auto row = [&](int j, T (&b)[C]) {
    const uint8_t* rj = v + j * a.vb;
    if (lpf) __builtin_prefetch(rj + off + lpf);
    if constexpr (C == 2) {
      if (c == 2 * W) return qd_bf16_row64<I, Exact>(rj, Bits, x, vs[j], b);
    }
    for (int u = 0; u < C; ++u) b[u] = qd_bf16_row<I, Exact>(rj, Bits, x + u * 2 * W, cols(u), vs[j]);
  };
  for (int i = 0; 2 * i < n; ++i) {
    T e[C], o[C];
    row(2 * i, e);
    if (2 * i + 1 < n) row(2 * i + 1, o);
    else
      for (int u = 0; u < C; ++u) o[u] = I::zero();  // an odd last key: P 0, V 0
    T lo[C], hi[C];
    for (int u = 0; u < C; ++u) I::pairs(e[u], o[u], lo[u], hi[u]);
    for (int r = 0; r < R; ++r) {
      const T pp = I::set1(int32_t(pw[r * pws + i]));
      for (int u = 0; u < C; ++u) {
        acc[r][u][0] = I::dot_bf16(acc[r][u][0], lo[u], pp);
        acc[r][u][1] = I::dot_bf16(acc[r][u][1], hi[u], pp);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int u = 0; u < C; ++u) {
      float* o = a.o + r * a.dv + x + u * 2 * W;
      const int cu = cols(u);
      FT o01[2];
      I::from_pairs_order(acc[r][u], o01);
      if (cu >= W) F::store(o, o01[0]);
      else F::store_n(o, o01[0], cu);
      if (cu >= 2 * W) F::store(o + W, o01[1]);
      else if (cu > W) F::store_n(o + W, o01[1], cu - W);
    }
}

template <class I, int R, bool Exact, int Bits>
inline void qd_bf16_pv(const QDecode& a, const uint32_t* pw, int64_t pws, const float* vs, const float* alpha, int n,
                       const uint8_t* v, int64_t pf) {
  constexpr int U = 2 * I::W, C = R <= 4 ? 2 : 1;  // R x C x 2 sums in registers
  int64_t x = 0;
  for (; x + C * U <= a.dv; x += C * U) qd_bf16_cols<I, R, C, Exact, Bits>(a, pw, pws, vs, alpha, n, v, x, U, pf);
  for (; x < a.dv; x += U)
    qd_bf16_cols<I, R, 1, Exact, Bits>(a, pw, pws, vs, alpha, n, v, x, a.dv - x < U ? int(a.dv - x) : U, pf);
}

template <class I, int R>
void qdecode_bf16_dot_rows(const QDecode& a) {
  constexpr int64_t BK = kBlockK;
  alignas(64) uint32_t pw[R][BK / 2];
  // The tiles pair keys from the block's start: blocks start at an even key.
  qd_blocks<I, R>(a, 2, [&](float (*s)[BK], const float* vs, int64_t j0, int n, const float* alpha, int64_t pf) {
    constexpr int W = I::W;
    for (int r = 0; r < R; ++r)
      for (int64_t k = 0; k < BK; k += 2 * W)
        I::store(reinterpret_cast<int32_t*>(pw[r] + k / 2), I::pack_bf16(I::F::load(s[r] + k), I::F::load(s[r] + k + W)));
    // pack_bf16 rounds as core/half.h's rule where float(V') * s is normal or 0: for V'
    // scales that are 0 or normal and finite.
    bool normal = true;
    for (int j = 0; j < n; ++j) normal &= vs[j] == 0.f || (std::fabs(vs[j]) >= 0x1p-126f && std::fabs(vs[j]) <= 0x1.fffffep127f);
    const uint8_t* v = a.v + j0 * a.vb;
    auto run = [&](auto exact) {
      if (a.vbits == 8) qd_bf16_pv<I, R, exact(), 8>(a, &pw[0][0], BK / 2, vs, alpha, n, v, pf);
      else qd_bf16_pv<I, R, exact(), 4>(a, &pw[0][0], BK / 2, vs, alpha, n, v, pf);
    };
    if (normal) run(std::false_type());
    else run(std::true_type());
  });
}

template <class I>
void qdecode_bf16_dot(const QDecode& a) {
  if constexpr (kBf16Dot<I>) as_rows<kDecodeRows>(a.rows, [&](auto rows) { qdecode_bf16_dot_rows<I, decltype(rows)::value>(a); });
}


}  // namespace
}  // namespace subq::cpu
