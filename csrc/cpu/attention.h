// CPU attention, dense and block-sparse (semantics: core/attention_params.h).
#pragma once
#include "../core/attention_params.h"

namespace subq::cpu {
void attention(const AttentionParams& p);
}
