// Softmax state, written once for every CUDA kernel that normalises scores or merges
// partial results (docs/semantics.md).
//
// OnlineSoftmax: one row's running state in the log2 domain (scores carry
// scale * log2(e), so exp is one exp2): the max m of the scores seen and the sum l of
// 2^(s - m). A block of scores moves it to the larger max mx: what was accumulated is
// rescaled by 2^(m - mx) and the block's 2^(s - mx) are added. Partial states of one row
// merge the same way under their common max. lse() gives the natural-log LSE.
//
// LseMerge: partial results merged by their natural-log LSEs (split-KV combine,
// mergeAttentionStates): m = max_s lse_s, w_s = exp(lse_s - m),
// o = sum_s w_s o_s / sum_s w_s, lse = m + log(sum_s w_s).
#pragma once
#include "../core/log2.h"
#include "numeric.cuh"

namespace subq::cuda {

struct OnlineSoftmax {
  float m = -INFINITY;  // max of the scores seen (log2 domain); -inf before any
  float l = 0.f;        // sum of 2^(s - m) over them

  // The exponent offset under running max mx: mx, or 0 while nothing is visible, so a
  // hidden score gives 2^(-inf - 0) = 0 rather than the NaN of -inf - -inf.
  static SUBQ_DEVICE float offset(float mx) { return mx == -INFINITY ? 0.f : mx; }

  // 2^(m - base): the factor that moves what was accumulated under m to offset `base`
  // (the rescale of the running sum and output; a partial state's weight in a merge).
  SUBQ_DEVICE float rescale(float base) const { return fast_exp2(m - base); }

  // After a block of scores: the new max mx, corr = rescale(offset(mx)), and the block's
  // 2^(s - offset(mx)) summed.
  SUBQ_DEVICE void advance(float mx, float corr, float sum) {
    l = l * corr + sum;
    m = mx;
  }

  // Merges partial state `part` into this one, whose m is already the max over every
  // part and base = offset(m); returns part's weight, for its output.
  SUBQ_DEVICE float absorb(const OnlineSoftmax& part, float base) {
    const float c = part.rescale(base);
    l += c * part.l;
    return c;
  }

  // The natural-log LSE: -inf for a row that saw no key (l == 0), NaN when its scores
  // were NaN (l is then NaN), so a merge keeps the NaN.
  SUBQ_DEVICE float lse() const { return l == 0.f ? -INFINITY : (m + log2f(l)) * kLn2F; }
};

struct LseMerge {
  float m = -INFINITY;  // the largest LSE; -inf when every part is empty
  float sum = 0.f;      // the parts' weights, summed

  SUBQ_DEVICE bool empty() const { return m == -INFINITY; }
  // The weight of a part whose LSE is lse.
  SUBQ_DEVICE float weight(float lse) const { return expf(lse - m); }
  SUBQ_DEVICE float lse() const { return empty() ? -INFINITY : m + logf(sum); }
};

}  // namespace subq::cuda
