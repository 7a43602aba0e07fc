// What the quantized kernels read (semantics: docs/semantics.md, "Quantized attention").
// Symmetric quantization of [B, H, N, D] rows: a group of rows (one token, or a block of
// `group` tokens of one head) shares one fp32 scale s = max|x| / qmax (qmax 127 for
// INT8, 7 for INT4) and x_q = round-half-away(x / s), 0 when s = 0. INT4 values are packed
// two per byte, element 2i in the low nibble of byte i of its row; a row of D values
// takes ceil(D / 2) bytes. No validation here: ops/quant.cpp checks what it fills in.
#pragma once
#include <cstdint>

#include "attention_params.h"
#include "dtype.h"
#include "quant_rule.h"
#include "tensor.h"

namespace subq {

// A quantized [B, H, N, D] tensor, rows contiguous: data int8 [B, H, N, D] or uint8
// [B, H, N, ceil(D / 2)] (INT4), scales fp32 [B, H, ceil(N / group)], and, when it was
// smoothed, mean fp32 [B, H, D] (the per-channel mean that was subtracted before
// quantizing; mean.data == nullptr otherwise).
struct QuantView {
  TensorView data, scales, mean;
  int bits = 8;
  int64_t group = 1;  // tokens per scale: 1 per token, else the block size
  int64_t B = 0, H = 0, N = 0, D = 0;

  int64_t row_bytes() const { return bits == 8 ? D : (D + 1) / 2; }
  int64_t groups() const { return (N + group - 1) / group; }
  bool present() const { return data.data != nullptr; }
  const uint8_t* row(int64_t b, int64_t h, int64_t n) const {
    return static_cast<const uint8_t*>(data.data) + ((b * H + h) * N + n) * row_bytes();
  }
  float scale(int64_t b, int64_t h, int64_t n) const {
    return static_cast<const float*>(scales.data)[(b * H + h) * groups() + n / group];
  }
  const float* mean_row(int64_t b, int64_t h) const {
    return mean.data ? static_cast<const float*>(mean.data) + (b * H + h) * D : nullptr;
  }
};

// quantizedAttention's side of an attention call (AttentionParams::quant): Q' and K'
// quantized, the exact corrections in the scores' units, and how P.V rounds.
//   score(i, j) = unit * (deq(Q'_i) . deq(K'_j) + qm_h(i) . deq(K'_j) + q_i . km)
// where unit is the driver's Q scale (scale * log2 e, or scale / softcap).
struct QuantQK {
  QuantView q, k;           // Q' [B, Hq, Nq, D], K' [B, Hkv, Nk, D]
  QuantView v;              // pre-quantized V [B, Hkv, Nk, Dv], or absent (p.v is read)
  const float* q_bias = nullptr;  // [B, Hq, Nq]: unit * q_i . km, or null
  const float* qm_k = nullptr;    // [B, Hq, Nk]: unit * qm_h . deq(K'_j), or null
  DType pv = DType::F32;          // P and V are rounded to this type before P.V; I8: pv 'int8'
};

// quantize(x): x [B, H, N, D] (any float dtype, normalised view) into `out`, whose views
// are written; smooth: subtract the per-(b, h) channel mean over tokens first and store it.
struct QuantizeParams {
  TensorView x;
  QuantView out;
  bool smooth = false;
};

// dequantize(x): out [B, H, N, D] fp32 = value * scale (+ mean when x has one).
struct DequantizeParams {
  QuantView in;
  TensorView out;
};

// quantizedAttention: an attention call whose Q and K are quantized first. attn.k / attn.v
// are the float tensors, or shape stand-ins (never read) where kq / vq are given.
struct QuantAttentionParams {
  AttentionParams attn;
  QuantView kq, vq;        // pre-quantized K' (with its mean when smoothed) and V, or absent
  int qk_bits = 8;         // Q, and K when quantized in the call
  bool per_token = false;  // granularity 'token'; else blocks of kQBlock / kKBlock tokens
  bool smooth_k = true, smooth_q = false;
  DType pv = DType::F32;  // F32, F16, BF16 (rounded operands) or I8 (pv 'int8', CPU only)
};

// SageAttention's blocks: 128 query tokens, 64 key tokens of one head per scale.
constexpr int64_t kQBlock = 128, kKBlock = 64;
// pv 'int8': P is quantized per query row and block of kPBlock keys (key j in block j / kPBlock).
constexpr int64_t kPBlock = 64;

}  // namespace subq
