// Runs the CUDA quantization kernels and quantized attention on views whose data live
// in host memory: under the SIMT emulator directly (quant_runner_emulated.cpp), on a GPU
// by copying to the device and back (quant_runner_device.cu).
#pragma once
#include "../../csrc/core/quant_params.h"

namespace subq::test {
void run_cuda_quantize(const QuantizeParams& p);
void run_cuda_dequantize(const DequantizeParams& p);
void run_cuda_quant_attention(const QuantAttentionParams& p);
}
