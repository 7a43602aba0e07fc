// Host side of the CUDA quantization kernels (quant.cuh) and of quantized attention.
// Views hold device pointers (host pointers under the SIMT emulator); CUstream_st* is
// cudaStream_t, so no CUDA header is needed.
#pragma once
#include "../core/quant_params.h"

struct CUstream_st;

namespace subq::cuda {

// Enqueue on `stream`: the mean (smoothing), scales and values of p.out.
void quantize_launch(const QuantizeParams& p, CUstream_st* stream);
// Enqueue on `stream`: every element of p.out.
void dequantize_launch(const DequantizeParams& p, CUstream_st* stream);

// Device memory quant_attention_launch needs: Q' (and K' unless given) with their scales
// and means, and the smoothing terms.
int64_t quant_attention_workspace(const QuantAttentionParams& p);
// Enqueue on `stream`: quantizing Q (and K), the smoothing terms, then the attention
// kernel (p.attn's out and LSE); `workspace` holds quant_attention_workspace(p) bytes,
// 256-byte aligned, in use until the stream passes this point.
void quant_attention_launch(const QuantAttentionParams& p, void* workspace, CUstream_st* stream);

}  // namespace subq::cuda
