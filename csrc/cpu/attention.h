// CPU dense attention (see ops/attention.h for the semantics).
#pragma once
#include "../ops/attention.h"

namespace subq::cpu {
void attention(const AttentionParams& p);
}
