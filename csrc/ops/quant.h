// quantize(x), dequantize(x) and quantizedAttention(q, k, v) (SageAttention semantics;
// the math is in core/quant_params.h and docs/semantics.md), on both backends.
#pragma once
#include <cstdint>

#include "../core/quant_params.h"
#include "attention.h"

namespace subq {

struct QuantizeOptions {
  int64_t bits = 8;
  bool per_token = false;
  int64_t block = 64;  // tokens per scale unless per_token
  bool smooth = false;
  Layout layout = Layout::BHND;
};

// A quantized tensor as the caller passes it ({data, scales, mean?, bits, granularity,
// blockSize, shape}); mean null when absent.
struct QuantArgs {
  TensorView data, scales;
  const TensorView* mean = nullptr;
  int64_t bits = 8;
  bool per_token = false;
  int64_t block = 64;
  int64_t shape[4] = {};  // [B, H, N, D] of the unquantized tensor
};

QuantizeParams quantize_prepare(const TensorView& x, const QuantizeOptions& opt);
// Shapes of data [B, H, N, D or ceil(D / 2)], scales [B, H, groups] and mean [B, H, D].
void quantize_out_shapes(const QuantizeParams& p, int64_t data[4], int64_t scales[3], int64_t mean[3]);
DType quantize_data_dtype(const QuantizeParams& p);
void quantize_bind_outputs(QuantizeParams& p, const TensorView& data, const TensorView& scales, const TensorView* mean);
void quantize_run(const QuantizeParams& p);

// Checks a quantized tensor argument (named `name`) and views it.
QuantView quant_view(const QuantArgs& a, const char* name);

DequantizeParams dequantize_prepare(const QuantArgs& x);
void dequantize_bind_output(DequantizeParams& p, const TensorView& out);
void dequantize_run(const DequantizeParams& p);

struct QuantAttentionOptions {
  AttentionOptions attn;
  int64_t qk_bits = 8;
  bool per_token = false;
  bool smooth_k = true;
  bool smooth_q = false;
  DType pv = DType::F32;
};

// k and v: a float tensor, or (kq / vq non-null) a quantized one.
QuantAttentionParams quant_attention_prepare(const TensorView& q, const TensorView* k, const QuantArgs* kq,
                                             const TensorView* v, const QuantArgs* vq,
                                             const QuantAttentionOptions& opt);
// attention_bind_outputs, and out / lse kept apart from the pre-quantized caches.
void quant_attention_bind_outputs(QuantAttentionParams& p, const TensorView& out, const TensorView* lse);
void quant_attention_run(const QuantAttentionParams& p);

}  // namespace subq
