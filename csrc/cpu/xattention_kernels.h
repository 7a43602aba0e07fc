// The per-ISA phase of XAttention scoring that is not a matrix product (the products are
// the attention kernels' Q.K^T, attention_kernels.h). Scores of a tile of reduced query
// rows are kept transposed, queries in the vector lanes, as in attention:
//   s [nk][tq]  base-2 logits of reduced keys 0 .. nk-1 (masked ones kMaskedScore)
#pragma once
#include <cstdint>

namespace subq::cpu {

struct XAttentionKernels {
  // For each lane: m = max_j s[j], l = sum_j 2^(s[j] - m), and for each key block kb
  // of R keys (the last may be shorter), bs[kb][:] = sum_{j in kb} 2^(s[j] - m) / l.
  // tq is a multiple of the vector width. A lane with every key masked gives garbage;
  // callers skip it.
  void (*softmax_block_sums)(const float* s, int64_t nk, int64_t tq, int64_t R, float* bs);
};

const XAttentionKernels& xattention_kernels_scalar();
const XAttentionKernels& xattention_kernels_avx2();
const XAttentionKernels& xattention_kernels_avx512_ymm();
const XAttentionKernels& xattention_kernels_avx512_zmm();

}  // namespace subq::cpu
