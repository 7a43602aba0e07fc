// The integer phases of quantized attention, one table per ISA. The driver
// (cpu/attention_tiles.cpp) swaps its fp32 Q.K^T phase for `qk` when a call is quantized.
// A query tile is kept transposed as in attention_kernels.h, queries in the lanes, but in
// groups of four channels so that one 32-bit lane holds four int8 values:
//   qt [d4][tq][4]  int8 Q' xor q_xor, channel 4i + c of lane l at qt[(i * tq + l) * 4 + c]
// (q_xor: the table's offset of Q', 0x80 where the kernel takes Q' + 128 as unsigned bytes)
// K' rows are int8, zero-padded to 4 * d4 channels, values in [-127, 127].
#pragma once
#include <cstdint>

namespace subq::cpu {

struct QkInt {
  const int8_t* qt;
  int64_t d4;
  int tq;
  const int8_t* k;  // row j at k + j * ks
  int64_t ks, nk;
  const int32_t* ksum;  // per key: the sum of its values (undoes VNNI's +128 on Q)
  const float* kscale;  // per key
  const float* qscale;  // [tq]: Q' scale times the scores' unit
  const float* bias;    // [tq]: added to every score of the lane
  const float* kterm;   // per key, added to every lane after the fma (smoothQ's qm . K'), or null
  float* s;             // [nk][tq]
};

// One key range of quantized decode (cpu/quant_decode.h): a few query rows against the
// int8/int4 K' and V' caches of one kv head, read in place. Key j (absolute) is the row
// k + j * kb (V': v + j * vb), with scales ksc[j / kgroup] and vsc[j / vgroup]. The
// state m, l, o [rows][dv] is the fp32 decode's (attention_kernels.h's DecodeRange).
// pv 'int8' and 'bf16' (decode_pv8, decode_bf16*) also take bias and softmax_rows, the tiled
// path's score bias and softmax step, and run the range in the tiles' key blocks (their bits).
struct QDecode {
  const int8_t* q;         // rows x dq: Q' values, zero from d to dq (a multiple of 64)
  const int32_t* qsum;     // rows: the sum of each Q' row (undoes VNNI's +128 on K')
  const float* qs;         // rows: Q' scale times the scores' unit
  const float* const* qm;  // rows: smoothQ's unit * qm . deq(K'_j) by absolute key, or null
  int rows;
  int64_t d, dq, dv;
  const uint8_t *k, *v;
  int64_t kb, vb;
  int kbits, vbits;
  const float *ksc, *vsc;
  int64_t kgroup, vgroup, j0, nk;
  const int64_t *lo, *hi;  // row r sees keys [lo[r], hi[r])
  float cap;               // softcap in the scores' unit, 0 for none
  void (*softcap)(float* s, int64_t n, float cap);
  float *m, *l, *o;
  const float* bias;  // rows: added to the scores by the fma (QkInt's bias), or null (none)
  void (*softmax_rows)(float* s, int64_t ss, int rows, int64_t nk, float* m, float* l, float* alpha);
};

// pv 'int8' (docs/semantics.md) on one key range of a tile, keys j < nk (nk <= the driver's
// block; key 0 starts a group of kPBlock keys). Per lane and group g of kPBlock keys:
//   t_j = P_j * vscale_j,  m = max_j t_j,  pscale[g] = m / 255,
//   P'_j = round-half-away(t_j * (255 / m)) in [0, 255] (0 where m = 0),
// all in fp32, then O^T = O^T * alpha + sum_g float(sum_j P'_j * V'_j(x)) * pscale[g], the
// integer sums exact (u8 x s8). p4 holds four keys' P' per lane word: key 4i + c of lane l
// is byte c of p4[i * tq + l]; keys from nk to the next multiple of 4 are 0.
struct PvInt {
  const float* p;       // P^T [nk][tq] (softmax's output)
  const float* vscale;  // per key: V' scale
  const int8_t* vt;     // V'^T: value x of key j at vt[x * vts + j], j < nk rounded up to 4
  int64_t vts, nk, dv;
  int tq;
  uint32_t* p4;         // scratch [ceil(nk / 4)][tq]
  float* pscale;        // scratch [ceil(nk / kPBlock)][tq]
  float* ot;            // O^T [dv][tq]
  const float* alpha;   // [tq]: the softmax step's rescale of O^T
};

struct QuantKernels {
  // s[j][l] = fma(float(sum_x qt(l, x) * k[j][x]), qscale[l] * kscale[j], bias[l])
  // (+ kterm[j]): the integer dot product is exact, the roundings after it the same
  // everywhere, so every ISA gives the same bits. tq must be a multiple of the table's
  // lane step.
  void (*qk)(const QkInt& a);
  int lane_step;
  uint8_t q_xor;  // what qt's bytes are xored with
  // dst[x] = float(value x of a quantized row) * scale for x < n (core/quant_rule.h).
  void (*dequant)(const uint8_t* row, int bits, int64_t n, float scale, float* dst);
  // Online softmax over one QDecode range: integer scores, P.V from the quantized V'.
  void (*decode)(const QDecode& a);
  // The same with pv 'int8': the tiled path's blocks, scores, softmax, P' and integer P'.V'
  // sums, row by row (quant_decode.h), so the tiled path's bits on each ISA.
  void (*decode_pv8)(const QDecode& a);
  // The same with pv 'bf16' (quant_decode.h), the tiled path's steps and bits: decode_bf16
  // where the tiles run the fp32 P.V of bf16-rounded P and V, decode_bf16_dot where they run
  // the AVX512-BF16 one (null in the tables without it; called only where the CPU has it).
  void (*decode_bf16)(const QDecode& a);
  void (*decode_bf16_dot)(const QDecode& a);
  // quantize's rule (docs/semantics.md) on one group of rows: y [rows][d] in fp32 (the mean
  // already subtracted), scale = max|y| / qmax, the values into rows rows of dst (row
  // bytes apart, INT4 packed); returns the scale. The same bits on every ISA.
  float (*quantize)(const float* y, int64_t rows, int64_t d, int bits, uint8_t* dst);
  // pv 'int8': P quantized and P'.V' on integers (PvInt). The same bits on every ISA.
  void (*pv)(const PvInt& a);
};

const QuantKernels& quant_kernels_scalar();
const QuantKernels& quant_kernels_avx2();         // vpmaddubsw on |q| and sign(k, q)
const QuantKernels& quant_kernels_avx512_vnni();  // vpdpbusd on zmm

// The integer phases of the ISA and level in use (cpu_features, simd_level) whose lane step
// divides a query tile of tq lanes.
const QuantKernels& pick_quant_kernels(int64_t tq);

}  // namespace subq::cpu
