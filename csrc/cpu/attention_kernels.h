// The phases of one query tile's pass over one key block, as separate functions per ISA.
// A query tile of `tile_q` rows is kept transposed, queries in the vector lanes:
//   qt [d][tile_q]   Q^T, pre-scaled so that scores come out in base-2 units
//   s  [nk][tile_q]  S^T for the block, turned into P^T in place by softmax
//   ot [dv][tile_q]  O^T, unnormalised; m, l, alpha [tile_q] running max, sum, rescale
// K is read as rows (row stride ks elements), V as rows of V^T staged per block (row
// stride vts) or, where it is read in place, as rows of V (row stride vs); all fp32.
// Phases stay separate, non-inlined calls: fused, the exp constants held registers the
// matrix loops needed and the accumulators spilled (docs/cpu-kernels.md).
#pragma once
#include <cstdint>

#include "../core/dtype.h"
#include "online_softmax.h"

namespace subq::cpu {

// Decode: at most kDecodeRows query rows per kv head (tokens x GQA group) take the
// decode kernel.
constexpr int kDecodeRows = 8;

// One key range of decode rows r < rows: q [rows][d] fp32, pre-scaled as Q^T is; keys
// j0 .. j0+nk-1 as rows of k (row stride ks elements) and v (vs), from key j0's row,
// their elements of type dtype (fp32, fp16 or bf16); row r sees keys [lo[r], hi[r]).
// Updates the online-softmax state of each row: m, l and the unnormalised o [rows][dv].
// cap > 0: the scores go through softcap(s, n, cap) first.
struct DecodeRange {
  const float* q;
  int rows;
  int64_t d, dv;
  DType dtype;
  const void *k, *v;
  int64_t ks, vs, j0, nk;
  const int64_t *lo, *hi;
  float cap;
  void (*softcap)(float* s, int64_t n, float cap);
  float *m, *l, *o;
};

struct AttentionKernels {
  int tile_q;
  // s[j][:] = sum_x k[j*ks + x] * qt[x][:] for j < nk. The swappable Q.K^T piece.
  void (*qk)(const float* qt, int64_t d, const float* k, int64_t ks, int64_t nk, float* s);
  // s = cap * tanh(s) over n = nk * tile_q scores.
  void (*softcap)(float* s, int64_t n, float cap);
  // Online softmax step: m' = max(m, max_j s[j]); alpha = 2^(m - m'); s = 2^(s - m');
  // l = l * alpha + sum_j s[j]; m = m'.
  void (*softmax)(float* s, int64_t nk, float* m, float* l, float* alpha);
  // The same step on rows r < rows of keys in memory, s [rows][ss] (pv 'int8' decode,
  // quant_decode.h): per row the operations softmax applies to its lane, in its order, so
  // its bits. ss and the lanes read are nk rounded up to 16; lanes past nk hold masked scores.
  void (*softmax_rows)(float* s, int64_t ss, int rows, int64_t nk, float* m, float* l, float* alpha);
  // ot[x][:] = ot[x][:] * alpha + sum_j vt[x*vts + j] * p[j][:] for x < dv. Like qk, each
  // accumulator row then reads one contiguous row (of V^T), which keeps L1 for P^T.
  void (*pv)(const float* p, int64_t nk, const float* vt, int64_t vts, int64_t dv, float* ot,
             const float* alpha);
  // The same from rows of V: ot[x][:] = ot[x][:] * alpha + sum_j v[j*vs + x] * p[j][:].
  void (*pv_rows)(const float* p, int64_t nk, const float* v, int64_t vs, int64_t dv, float* ot,
                  const float* alpha);
  // d[c*ds + r] = s[r*ss + c] for r < rows, c < cols: staging Q^T and V^T, unstaging O^T.
  void (*transpose)(const float* s, int64_t ss, int64_t rows, int64_t cols, float* d, int64_t ds);
  // The decode kernel: one DecodeRange.
  void (*decode)(const DecodeRange& r);
};

const AttentionKernels& attention_kernels_scalar();
const AttentionKernels& attention_kernels_avx2();         // ymm, 16 registers
const AttentionKernels& attention_kernels_avx512_ymm();   // AVX-512VL on ymm, 32 registers
const AttentionKernels& attention_kernels_avx512_zmm();
const AttentionKernels& attention_kernels_avx512_zmm64();  // 64-query tiles, for block masks

}  // namespace subq::cpu
