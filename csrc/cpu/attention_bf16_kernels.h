// The matrix phases of bf16 attention on AVX512-BF16 (vdpbf16ps: each fp32 lane adds
// the two products of a pair of bf16 lanes), for the tile driver (attention_tiles.cpp). They
// replace Q.K^T and P.V of attention_kernels.h on the same query tiles; the softcap,
// masking and online softmax in between stay the fp32 ones, on fp32 scores.
//
// A pair is two bf16 values in one 32-bit word, the lower half the even element:
//   qt2 [ceil(d/2)][tile_q]   Q^T as pairs along the head dim, unscaled (odd d: a 0 pads)
//   k                         bf16 rows of K read in place (row stride ks elements)
//   p2  [ceil(nk/2)][tile_q]  P^T rounded to bf16 (nearest even), pairs along keys
//   vt2 [dv][vts]             V^T as pairs along keys (staged per key block)
// Products of bf16 are exact in fp32; the sums are fp32, as on GPU tensor cores.
#pragma once
#include <cstdint>

namespace subq::cpu {

struct AttentionBf16Kernels {
  int tile_q;
  // s[j][:] = scale * sum_x k[j*ks + x] * q[x][:] for j < nk, x < d: qt2 pairs against
  // pairs of K's row j (the last, for odd d, against k[d-1] alone: k[d] is not read).
  void (*qk)(const uint32_t* qt2, int64_t d, const uint16_t* k, int64_t ks, int64_t nk, float scale, float* s);
  // p2 = P^T [nk][tile_q] (fp32) rounded to bf16 pairs; odd nk: the last pair's upper half 0.
  void (*round_p)(const float* p, int64_t nk, uint32_t* p2);
  // ot[x][:] = ot[x][:] * alpha + sum_j v(j, x) * p[j][:] for x < dv, over the key pairs
  // i < ceil(nk/2) of p2 and of rows vt2 + x*vts.
  void (*pv)(const uint32_t* p2, int64_t nk, const uint32_t* vt2, int64_t vts, int64_t dv, float* ot,
             const float* alpha);
  // out[x] = a[x] | b[x] << 16 for x < n (b null: 0): two bf16 rows into a row of pairs.
  void (*pair_rows)(const uint16_t* a, const uint16_t* b, int64_t n, uint32_t* out);
  // d[c*ds + r] = s[r*ss + c] on 32-bit words (pairs): staging Q^T and V^T.
  void (*transpose)(const uint32_t* s, int64_t ss, int64_t rows, int64_t cols, uint32_t* d, int64_t ds);
};

// The set matching each AVX-512 fp32 set's query tile (attention_kernels.h): ymm with
// 32-query tiles, zmm with 48, zmm with 64 (block masks).
const AttentionBf16Kernels& attention_bf16_kernels_ymm();
const AttentionBf16Kernels& attention_bf16_kernels_zmm();
const AttentionBf16Kernels& attention_bf16_kernels_zmm64();

}  // namespace subq::cpu
