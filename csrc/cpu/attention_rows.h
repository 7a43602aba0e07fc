// Rows of Q and O for the attention driver: the packing of a GQA group's query heads
// into tile lanes, the base-2 score unit folded into Q, and the output row with its LSE.
#pragma once
#include <cstdint>

#include "../core/attention_params.h"

namespace subq::cpu {

// The g = Hq / Hkv query heads that share a kv head are packed row by row: packed row
// `lane` of kv head (b, hk) is query row lane / g of head hk * g + lane % g.
int64_t packed_row_offset(const TensorView& t, int64_t g, int64_t b, int64_t hk, int64_t lane);

// Scores come out in base 2 (exp2 is cheaper than exp): log2(e) and the scale are folded
// into Q. With a softcap, Q carries scale / cap and tanh's output is scaled.
double q_scale(const AttentionParams& p);
// The softcap in those base-2 units: tanh's output scale (0 without a softcap).
float softcap_log2(const AttentionParams& p);

// Packed row `lane` of Q times q_scale, in fp32 (scaled in double).
void load_q_row(const AttentionParams& p, int64_t g, int64_t b, int64_t hk, int64_t lane, float* dst);

// Writes packed row `lane` of the output, o / l (0 where no key is visible), from the
// unnormalised row o (overwritten) and the softmax state m (base-2 units), l; and its LSE.
void store_row(const AttentionParams& p, int64_t g, int64_t b, int64_t hk, int64_t lane, float* o, float m, float l);

// x rounded to fp16 or bf16 in place (quantizedAttention's pv type).
void round_to(DType t, float* x, int64_t n);

}  // namespace subq::cpu
