// Stand-in for the CUDA quantization kernels in builds without a CUDA compiler.
#include "quant.h"
#include "runtime.h"

namespace subq::cuda {

void quantize(const QuantizeParams&) { no_cuda(); }
void dequantize(const DequantizeParams&) { no_cuda(); }
void quantized_attention(const QuantAttentionParams&) { no_cuda(); }

}  // namespace subq::cuda
