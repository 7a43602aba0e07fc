// CPU XAttention block scoring (semantics: core/xattention_params.h) and selection
// (core/xattention_select.h).
#pragma once
#include "../core/xattention_params.h"
#include "../core/xattention_select.h"

namespace subq::cpu {
void xattention_scores(const XAttentionParams& p);
void xattention_select(const XSelectParams& p);
}
