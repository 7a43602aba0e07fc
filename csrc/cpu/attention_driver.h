// The two drivers behind cpu::attention (attention.cpp picks one and the kernels):
// query tiles over key-block lists (attention_tiles.cpp), and decode, a few query rows
// per kv head against key ranges run in parallel (attention_decode.cpp).
#pragma once
#include "../core/attention_params.h"
#include "attention_bf16_kernels.h"
#include "attention_kernels.h"

namespace subq::cpu {

// bf16: the bf16 matrix phases for bf16 inputs, or null for the fp32 phases (quantized
// calls swap in the integer Q.K^T of quant_kernels.h).
void tile_attention(const AttentionParams& p, const AttentionKernels& kern, const AttentionBf16Kernels* bf16);

// At most kDecodeRows packed rows per kv head, no block mask. bf16: the bf16 phases the
// tiled path would take (pv 'bf16' decode takes its P.V's bits).
void decode_attention(const AttentionParams& p, const AttentionKernels& kern, const AttentionBf16Kernels* bf16);

// Whether quantized decode runs the tiled path's steps (pv 'int8'; pv 'bf16' from a quantized
// V), with q . km in the scores as the tiles have it (so a softcap is allowed).
bool quant_decode_tile_steps(const AttentionParams& p);

}  // namespace subq::cpu
