// Merging two partial attention results by their log-sum-exp (docs/semantics.md).
// For each row (b, h, n), with natural-log LSEs:
//   m = max(lse1, lse2), w_i = exp(lse_i - m),
//   out = (w1 o1 + w2 o2) / (w1 + w2),  lse = m + log(w1 + w2);
// a state with lse = -inf is empty (its o is ignored); both empty: out = 0,
// lse = -inf. NaN in an LSE propagates to the row.
//   o1, o2, out [B, H, N, D] (or [B, N, H, D] with Layout::BNHD), fp32/fp16/bf16;
//   lse1, lse2, lse [B, H, N] fp32 (as attention returns them).
#pragma once
#include <cstdint>

#include "layout.h"
#include "tensor.h"

namespace subq {

// Views normalised to [B, H, N, D] order (strides permuted, no copy).
struct MergeParams {
  TensorView o1, lse1, o2, lse2, out, lse;
  int64_t B = 0, H = 0, N = 0, D = 0;
  Layout layout = Layout::BHND;
};

}  // namespace subq
