// CPU attention, dense and block-sparse (semantics: core/attention_params.h).
#pragma once
#include "../core/attention_params.h"

namespace subq::cpu {
void attention(const AttentionParams& p);
// How bf16 inputs run now: "avx512-bf16" (Q.K^T and P.V on vdpbf16ps, P rounded to bf16)
// or "fp32-widen" (converted to fp32). Decode (at most 8 query rows per kv head) widens.
const char* attention_bf16_path();
// The unit the kernels compute scores in: Q . K times this gives base-2 scores
// (scale * log2 e), or with a softcap the argument of tanh (scale / softcap).
double score_unit(const AttentionParams& p);
}
