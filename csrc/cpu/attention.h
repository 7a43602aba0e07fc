// CPU attention, dense and block-sparse (semantics: core/attention_params.h).
#pragma once
#include "../core/attention_params.h"

namespace subq::cpu {
void attention(const AttentionParams& p);
// The unit the kernels compute scores in: Q . K times this gives base-2 scores
// (scale * log2 e), or with a softcap the argument of tanh (scale / softcap).
double score_unit(const AttentionParams& p);
}
