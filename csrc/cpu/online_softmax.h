// The online softmax, written once for every CPU kernel and merge (docs/semantics.md).
//
// A row's state is in base-2 units, since Q carries log2(e) (attention_rows.h q_scale):
// m, the largest score seen, and l, the sum of 2^(s - m). A block of scores moves it to
// the larger max mx: what was accumulated is rescaled by alpha = 2^(m - mx) and the
// block's 2^(s - mx) are added. The tile kernels hold a row per vector lane
// (advance_lanes); the decode kernels hold one row's keys in the lanes (advance_row).
// Partial states of one row merge under their common max (StateMerge); lse_of() gives the
// natural-log LSE. Each kernel passes its own exp2, the one its scores go through, so a
// rescale and the terms it rescales round alike.
//
// LseMerge merges results by their natural-log LSEs (mergeAttentionStates):
// m = max lse_s, w_s = exp(lse_s - m), o = sum w_s o_s / sum w_s, lse = m + log(sum w_s).
#pragma once
#include <cmath>

#include "../core/log2.h"

namespace subq::cpu {

// Masked scores are a large finite negative, below the running max's start value, so
// every exp2 argument stays finite (no clamp needed) and masked terms give exactly 0.
constexpr float kMaskedScore = -2e38f;
constexpr float kInitMax = -1e38f;

// The running max after a block whose largest score is bm. A NaN on either side wins,
// so a NaN score poisons its row instead of vanishing.
inline float running_max(float m, float bm) { return bm > m || bm != bm ? bm : m; }

// One row after a block: l = l alpha + sum (sum: the block's 2^(s - mx)), m = mx.
inline void advance(float& m, float& l, float mx, float alpha, float sum) {
  l = l * alpha + sum;
  m = mx;
}

// A row whose block of scores sits in vector lanes: alpha from the kernel's exp2, then
// advance. Returns alpha, for the rescale of the row's output.
template <class V, class Exp2>
float advance_row(float& m, float& l, float mx, float sum, Exp2 exp2) {
  alignas(64) float e[V::W];
  V::store(e, exp2(V::set1(m - mx)));
  advance(m, l, mx, e[0], sum);
  return e[0];
}

// Rows in vector lanes: per lane alpha = 2^(m - mx), l = l alpha + sum, m = mx.
template <class V>
typename V::T advance_lanes(float* m, float* l, typename V::T mx, typename V::T sum) {
  const typename V::T a = V::exp2(V::sub(V::load(m), mx));
  V::store(m, mx);
  V::store(l, V::fmadd(V::load(l), a, sum));
  return a;
}

// The natural-log LSE of a state: -inf for a row that saw no key (l == 0).
inline float lse_of(float m, float l) {
  return l == 0 ? -INFINITY : float((double(m) + std::log2(double(l))) * kLn2);
}

// Partial states (m_c, l_c, o_c) of one row, merged in a fixed order: see every m_c,
// then absorb each part; its weight 2^(m_c - m) scales its o_c.
struct StateMerge {
  float m = kInitMax;
  double l = 0;
  void see(float mc) { m = running_max(m, mc); }
  float absorb(float mc, float lc) {
    const float w = float(std::exp2(double(mc) - m));
    l += double(lc) * w;
    return w;
  }
};

struct LseMerge {
  float m = -INFINITY;  // the largest LSE seen; -inf while every part is empty
  float sum = 0.f;      // the parts' weights, summed
  // NaN in either LSE makes m or a weight NaN, so it propagates.
  void see(float lse_s) { m = m >= lse_s ? m : lse_s; }
  bool empty() const { return m == -INFINITY; }
  float absorb(float lse_s) {
    const float w = std::exp(lse_s - m);
    sum += w;
    return w;
  }
  float lse() const { return empty() ? -INFINITY : m + std::log(sum); }
};

}  // namespace subq::cpu
