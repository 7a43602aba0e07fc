// The phases of one query tile's pass over one key block, as separate functions per ISA.
// A query tile of `tile_q` rows is kept transposed, queries in the vector lanes:
//   qt [d][tile_q]   Q^T, pre-scaled so that scores come out in base-2 units
//   s  [nk][tile_q]  S^T for the block, turned into P^T in place by softmax
//   ot [dv][tile_q]  O^T, unnormalised; m, l, alpha [tile_q] running max, sum, rescale
// Rows of K and V are read in place (row stride ks / vs elements), fp32.
// Phases stay separate, non-inlined calls: fused, the exp constants held registers the
// matrix loops needed and the accumulators spilled (CPU-KERNELS.md).
#pragma once
#include <cstdint>

namespace subq::cpu {

// Masked scores are a large finite negative, below the running max's start value, so
// every exp2 argument stays finite (no clamp needed) and masked terms give exactly 0.
constexpr float kMaskedScore = -2e38f;
constexpr float kInitMax = -1e38f;

struct AttentionKernels {
  int tile_q;
  // s[j][:] = sum_x k[j*ks + x] * qt[x][:] for j < nk. The swappable Q.K^T piece.
  void (*qk)(const float* qt, int64_t d, const float* k, int64_t ks, int64_t nk, float* s);
  // s = cap * tanh(s) over n = nk * tile_q scores.
  void (*softcap)(float* s, int64_t n, float cap);
  // Online softmax step: m' = max(m, max_j s[j]); alpha = 2^(m - m'); s = 2^(s - m');
  // l = l * alpha + sum_j s[j]; m = m'.
  void (*softmax)(float* s, int64_t nk, float* m, float* l, float* alpha);
  // ot[x][:] = ot[x][:] * alpha + sum_j v[j*vs + x] * p[j][:] for x < dv.
  void (*pv)(const float* p, int64_t nk, const float* v, int64_t vs, int64_t dv, float* ot,
             const float* alpha);
};

const AttentionKernels& attention_kernels_scalar();
const AttentionKernels& attention_kernels_avx2();         // ymm, 16 registers
const AttentionKernels& attention_kernels_avx512_ymm();   // AVX-512VL on ymm, 32 registers
const AttentionKernels& attention_kernels_avx512_zmm();

}  // namespace subq::cpu
