// CPU XAttention block scoring (semantics: core/xattention_params.h).
#pragma once
#include "../core/xattention_params.h"

namespace subq::cpu {
void xattention_scores(const XAttentionParams& p);
}
