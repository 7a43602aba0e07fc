// CPU quantization and quantized attention (semantics: core/quant_params.h).
#pragma once
#include "../core/quant_params.h"

namespace subq::cpu {
void quantize(const QuantizeParams& p);
void dequantize(const DequantizeParams& p);
// Quantizes Q (and K unless given), folds the smoothing corrections into per-row and
// per-key terms, and runs the attention driver with its integer Q.K^T.
void quantized_attention(const QuantAttentionParams& p);
}  // namespace subq::cpu
