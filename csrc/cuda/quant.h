// CUDA entry points of the quantized family; quant_none.cpp stands in without CUDA.
#pragma once
#include "../core/quant_params.h"

namespace subq::cuda {

void quantize(const QuantizeParams& p);
void dequantize(const DequantizeParams& p);
void quantized_attention(const QuantAttentionParams& p);

}  // namespace subq::cuda
