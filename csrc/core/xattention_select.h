// XAttention's block selection, one rule for the CPU and the CUDA kernels, so both give
// the same mask bit for bit. ops/xattention.cpp checks the caller's arguments and fills
// XSelectParams; kernels trust them. No validation lives here.
//
// Per (b, h, query block qb) row of scores [B, H, nqb, nkb]:
//   diag = qb + nkb - nqb (the scores' alignment: core/xattention_params.h);
//   visible blocks [0, end): end = nkb, or with causal clamp(diag + 1, 0, nkb);
//   forced blocks: 0 (keep_sink) and diag (keep_recent), when visible;
//   candidates: the other visible blocks with score > 0, in the selection order
//     score descending, ties to the lower block index;
//   kept: the forced blocks and the shortest prefix of the candidates whose mass with the
//     forced blocks reaches need = threshold[h] * total (total: every visible block's
//     score), i.e. the block that crosses it is kept; every candidate when none does.
// Masses are fp64 sums in one fixed order (mass() below): a set's mass is then one
// number, whichever backend or thread order computes it, and it only grows as blocks
// join the set (rounding is monotone and the joining scores are positive), so the
// prefix is found by bisection on masses (select_row()). A quickselect would sum fewer
// scores, but its sums follow its partition order; one fixed-order mass per step is what
// lets every backend and thread order agree.
#pragma once
#include <cstdint>
#include <cstring>

#include "tensor.h"

#if defined(__CUDACC__)
#define SUBQ_XSEL_FN __host__ __device__ __forceinline__
#else
#define SUBQ_XSEL_FN inline
#endif

namespace subq {

struct XSelectParams {
  TensorView scores;  // fp32 [B, H, nqb, nkb], any strides with a contiguous last dim
  TensorView mask;    // uint8 [B, H, nqb, nkb], contiguous: 1 where kept
  TensorView counts;  // int32 [B, H, nqb], contiguous: kept blocks per row
  const double* thresholds = nullptr;  // [H], each in [0, 1]; host memory
  int64_t B = 0, H = 0, nqb = 0, nkb = 0;
  bool causal = false, keep_sink = true, keep_recent = true;
};

namespace xsel {

// Lanes of the fixed summation order: a CUDA warp.
inline constexpr int kLanes = 32;

// Visible key blocks [0, end) of query block qb.
SUBQ_XSEL_FN int64_t visible_end(int64_t qb, int64_t nqb, int64_t nkb, bool causal) {
  if (!causal) return nkb;
  const int64_t e = qb + nkb - nqb + 1;
  return e < 0 ? 0 : e > nkb ? nkb : e;
}

// A block's rank in the search: forced blocks rank above every cut, candidates by their
// score's bit pattern (which orders positive floats, +inf included, as their values),
// every other visible block 0.
SUBQ_XSEL_FN uint32_t rank(float v, bool forced) {
  if (forced) return 0xffffffffu;
  if (!(v > 0.f)) return 0u;  // not a candidate (NaN included)
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  return u;
}

// A set of visible blocks: those ranked above tau, and those ranked tau with a block index
// below cut.
struct Cut {
  int64_t tau;
  int64_t cut;
};
inline constexpr Cut kVisible{-1, 0};          // every visible block (the row's total)
inline constexpr Cut kNone{0xfffffffeu, 0};   // the forced blocks only
inline constexpr Cut kAll{0, 0};              // the forced blocks and every candidate

// Bitwise, not short-circuit: no branch on the data (the CPU's masses then vectorise).
SUBQ_XSEL_FN bool member(uint32_t rank, int64_t kb, Cut c) {
  return (int64_t(rank) > c.tau) | ((int64_t(rank) == c.tau) & (kb < c.cut));
}

// The fixed summation order of a set's mass: lane l adds the scores of the set's blocks
// kb = l, l + 32, ... (others add +0, which changes no sum that starts at +0) in that
// order, then the 32 lane sums meet pairwise, w = 16, 8, 4, 2, 1: s[l] += s[l ^ w]
// (a warp's shuffle reduction; both lanes of a pair get the same bits, a + b == b + a).
// The sequential form, for the CPU: `score(kb)` is the block's contribution.
template <class Score>
SUBQ_XSEL_FN double mass(int64_t end, Score&& score) {
  double s[kLanes] = {};
  for (int64_t base = 0; base < end; base += kLanes) {
    const int n = end - base < kLanes ? int(end - base) : kLanes;
    for (int l = 0; l < n; ++l) s[l] += score(base + l);
  }
  for (int w = kLanes / 2; w >= 1; w /= 2) {
    double t[kLanes];
    for (int l = 0; l < kLanes; ++l) t[l] = s[l] + s[l ^ w];
    for (int l = 0; l < kLanes; ++l) s[l] = t[l];
  }
  return s[0];
}

// The kept set of a row: `mass_of(Cut)` is the mass of a set of its visible blocks (the
// fixed order: mass() above, or a warp's), by bisection on masses, one O(row) pass each.
// key_at(0) <= ... <= key_at(n_keys - 1) lists ranks that include every candidate's and
// start at or below the smallest: the CUDA kernel lists every positive float (key_at(i)
// = i + 1, 31 steps, nothing to sort), the CPU its sorted candidates (log2(n) steps).
// tie_span(tau, first, last) gives the lowest and highest index of a candidate ranked tau.
// Steps: the crossing rank tau (ranks >= tau reach need, ranks > tau do not), then the
// fewest of its ties, in index order, that reach need; a single tie takes no step.
template <class MassOf, class KeyAt, class TieSpan>
SUBQ_XSEL_FN Cut select_row(double threshold, MassOf&& mass_of, int64_t n_keys, KeyAt&& key_at, TieSpan&& tie_span) {
  const double need = threshold * mass_of(kVisible);
  if (mass_of(kNone) >= need) return kNone;
  if (!(mass_of(kAll) >= need)) return kAll;  // never reached (need NaN included): keep all
  // Invariant: ranks >= key_at(lo) reach need; ranks >= key_at(hi) do not (hi = n_keys: none).
  int64_t lo = 0, hi = n_keys;
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (mass_of(Cut{int64_t(key_at(mid)) - 1, 0}) >= need) lo = mid;
    else hi = mid;
  }
  // tau is a candidate's rank (the set only changes at one) and key_at(lo + 1) > tau.
  const uint32_t tau = key_at(lo);
  int64_t a, b;  // cut a (the ties below a) does not reach need, cut b does
  tie_span(tau, a, b);
  b += 1;
  while (b - a > 1) {
    const int64_t mid = a + (b - a) / 2;
    if (mass_of(Cut{tau, mid}) >= need) b = mid;
    else a = mid;
  }
  return Cut{tau, b};
}

// One row's geometry: visible blocks [0, end) and its forced blocks (-1: none).
struct Row {
  int64_t end, sink, diag;
  SUBQ_XSEL_FN bool forced(int64_t kb) const { return kb == sink || kb == diag; }
};

SUBQ_XSEL_FN Row row_of(int64_t qb, int64_t nqb, int64_t nkb, bool causal, bool keep_sink, bool keep_recent) {
  Row r;
  r.end = visible_end(qb, nqb, nkb, causal);
  const int64_t diag = qb + nkb - nqb;
  r.sink = keep_sink && r.end > 0 ? 0 : -1;
  r.diag = keep_recent && diag >= 0 && diag < r.end ? diag : -1;
  return r;
}

// Block kb's rank in row r (visible blocks only).
SUBQ_XSEL_FN uint32_t rank(const float* v, int64_t kb, const Row& r) { return rank(v[kb], r.forced(kb)); }

// Whether block kb of row r is kept under c.
SUBQ_XSEL_FN bool kept(const float* v, int64_t kb, const Row& r, Cut c) { return kb < r.end && member(rank(v, kb, r), kb, c); }

}  // namespace xsel
}  // namespace subq
