// What an XAttention block-scoring kernel reads, on any backend: views already
// normalised to [B, H, N, D] order and the options resolved. ops/xattention.cpp checks
// the caller's arguments and fills these; kernels trust them. No validation lives here.
//
// The estimate (XAttention, "block sparse attention with antidiagonal scoring"), with
// stride S, block size Bk and R = Bk / S reduced rows per block:
//   1. Reduced rows: reduced query i stands for query rows [i*S, i*S + S), reduced key j
//      for key rows [j*S, j*S + S). Rows past the end are zeros.
//        A[i][j] = sum_{t < S} Q[i*S + (S-1-t)] . K[j*S + t]
//      sums the antidiagonal of each S x S tile of Q K^T.
//   2. Logits A[i][j] * scale / S. Reduced key j is visible to reduced query i when
//        j < ceil(Nk / S)                       (keys that are all padding are masked)
//        and, causal, j <= i + (nkb - nqb) * R  (query blocks sit at the last nqb key blocks)
//   3. P = softmax over each reduced query row's visible keys, in fp32; a row with no
//      visible key (causal with Nq > Nk) is all zeros.
//   4. scores[qb][kb] = sum of P[i][j] over i in query block qb, j in key block kb, for
//      real reduced rows only (i < ceil(Nq / S)): each full block row sums to R.
// nqb = ceil(Nq / Bk), nkb = ceil(Nk / Bk). The block offset nkb - nqb is the reference
// implementation's alignment when it pads both sequences to whole blocks at the end: with
// Nq % Bk != Nk % Bk it can differ from the token-level (bottom-right) causal diagonal.
// Kernels write every element of scores (zeros where nothing is visible); agreement with
// the fp64 reference at fp32 level is the contract, not the CPU backend's bits.
#pragma once
#include <cstdint>

#include "attention_params.h"

namespace subq {

struct XAttentionParams {
  TensorView q, k;  // [B, Hq, Nq, D], [B, Hkv, Nk, D]; query head h reads kv head h / (Hq / Hkv)
  TensorView scores;  // fp32 [B, Hq, nqb, nkb], any strides with a contiguous last dim
  int64_t B = 0, Hq = 0, Hkv = 0, Nq = 0, Nk = 0, D = 0;
  int64_t stride = 8;   // S
  int64_t block = 128;  // Bk, a multiple of S
  int64_t chunk = 0;    // query rows per work item, a multiple of block; 0: the backend picks
  float scale = 1;      // the logit scale before the 1/S (default 1/sqrt(D))
  bool causal = false;
  Layout layout = Layout::BHND;

  int64_t rows_per_block() const { return block / stride; }         // R
  int64_t nqb() const { return (Nq + block - 1) / block; }
  int64_t nkb() const { return (Nk + block - 1) / block; }
  int64_t reduced_q() const { return (Nq + stride - 1) / stride; }  // real reduced query rows
  int64_t reduced_k() const { return (Nk + stride - 1) / stride; }  // real reduced keys
  // Visible reduced keys of reduced query i: [0, key_end(i)) (may be <= 0: none).
  int64_t key_end(int64_t i) const {
    const int64_t n = reduced_k();
    if (!causal) return n;
    const int64_t last = i + (nkb() - nqb()) * rows_per_block();
    return last + 1 < n ? last + 1 : n;
  }
};

}  // namespace subq
