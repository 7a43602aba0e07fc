// Quantized attention forward (SageAttention; semantics: core/quant_params.h and
// docs/semantics.md "Quantized attention"). The flash arrangement of attn_fwd_tc.cuh
// with one m16 tile per warp (a block of 4 warps owns 64 query rows of one head):
//   S  = Q'.K'^T  on the integer mma (m16n8k32 .s8, or m16n8k64 .s4 when both are
//        INT4), exact in s32, then per element
//        s = fma(float(S), q_scale * k_scale, bias) (+ qm . K'_j with smoothQ),
//        the CPU's two roundings (cpu/quant_kernels.h), so the scores match it bit
//        for bit; the units are the scores' (scale * log2 e, or scale / softcap);
//   softcap, masks (mask.cuh), the online softmax and the LSE as the dense kernel;
//   O += P.V on the fp16 / bf16 mma with fp32 accumulation: P and V rounded to the pv
//        type, or (pv fp32) each split into a bf16 high and low part,
//        P.V ~ Ph.Vh + Ph.Vl + Pl.Vh (about 16 bits of each operand);
//   or (pv int8) O += (m / 255) * (P'.V' on the m16n8k32 .u8.s8 mma, exact in s32),
//        P' the tile's P times each key's V' scale quantized to u8 per row and 64-key
//        tile (= the semantics' block), in the CPU's fp32 steps (cpu/quant_simd.h).
//        The P' fragment is the score accumulators' registers as they are: the keys
//        of the mma's k order are permuted (kv_position_key), V'^T staged in that order.
// Q' and K' come as stored (int8, or int4 nibbles, low nibble first); INT4 meeting
// an INT8 operand is widened to int8 while staged, and the stored -128 / -8 that the
// semantics read as -127 / -7 are raised as they are staged. Tiles are in shared
// memory as bytes that ldmatrix reads as 16-bit pairs: an 8x8 b16 matrix is 8 rows of
// 16 int8 (or 32 int4), whose per-lane registers are exactly the integer mma's
// fragments (ptx.cuh).
// HD is the head dim padded up (64, 128, 256); D and Dv <= HD at run time.
#pragma once
#include "../core/quant_params.h"
#include "attn_kernels.cuh"
#include "mask.cuh"
#include "ptx.cuh"
#include "quant_attn_params.cuh"
#include "quant_math.cuh"

namespace subq::cuda {

// PV: the P.V rounding, DType::F16 / BF16 (rounded operands), F32 (the bf16 split) or
// I8 (pv 'int8').
template <int HD, int BITS, DType PV>
struct QuantTile {
  static_assert(HD == 64 || HD == 128 || HD == 256);
  static_assert(BITS == 8 || BITS == 4);
  static constexpr bool kPv8 = PV == DType::I8;
  static constexpr int kWarps = 4, kThreads = 128, kBM = 64;
  // pv int8 quantizes P per 64-key block: one block per key tile at every head dim.
  static constexpr int kBN = HD <= 128 || kPv8 ? 64 : 32;
  static_assert(!kPv8 || kBN == kPBlock);
  static constexpr int kQB = HD * BITS / 8 + 16;    // bytes per Q' / K' row: 16 of padding
  static constexpr int kK = BITS == 8 ? 32 : 64;    // channels per integer mma
  static constexpr int kVS = HD + 8;                // 16-bit elements per V row
  static constexpr int kVTS = kBN + 16;             // pv int8: bytes per V'^T row (an output column)
  static constexpr int kVParts = PV == DType::F32 ? 2 : 1;  // bf16 high and low parts for pv fp32
  static constexpr int kVBytes = kPv8 ? HD * kVTS : kVParts * kBN * kVS * 2;
  static constexpr int kSmem = (kBM + kBN) * kQB + kVBytes + (kPv8 ? 3 : 2) * kBN * 4;
  static_assert(kSmem <= 101376, "quantized attention tile exceeds the shared memory of sm_86/sm_89");
};

// 4 stored bytes with each -128 (INT8) or -8 nibble (INT4) raised to -127 / -7: an
// exact test for a zero byte (nibble) of x ^ pattern, then the low bit set.
template <int SRC_BITS>
SUBQ_DEVICE uint32_t raise_most_negative(uint32_t x) {
  constexpr uint32_t top = SRC_BITS == 8 ? 0x80808080u : 0x88888888u, low = ~top;
  const uint32_t t = x ^ top;
  const uint32_t zero = ~(((t & low) + low) | t | low);  // top bit of each zero byte / nibble
  return x | zero >> (SRC_BITS - 1);
}

// Sign-extends the 4 nibbles of the low 16 bits of x into 4 bytes (INT4 -> INT8).
SUBQ_DEVICE uint32_t widen_nibbles(uint32_t x) {
  uint32_t r = 0;
#pragma unroll
  for (int e = 0; e < 4; ++e) {
    const int v = int((x >> (4 * e)) & 15u);
    r |= uint32_t(uint8_t(int8_t(v >= 8 ? v - 16 : v))) << (8 * e);
  }
  return r;
}

// Stages `rows` quantized rows (row r at src(r), null past the tensor) into a tile of
// BITS-bit values, kQB bytes a row, 16 bytes per step, zero beyond the stored row. `vec`:
// the rows are 16-byte aligned and whole multiples of 16 bytes, so a step's source (16
// bytes, or 8 when INT4 widens to INT8) is one or two aligned loads.
template <int HD, int BITS, class RowPtr>
SUBQ_DEVICE void stage_int_rows(uint8_t* dst, int rows, RowPtr src, int src_bits, int src_rb, bool vec, int tid) {
  constexpr int chunks = HD * BITS / 128, QB = HD * BITS / 8 + 16;
  const bool widen = BITS == 8 && src_bits == 4;
  for (int c = tid; c < rows * chunks; c += 128) {
    const int r = c / chunks, k = c % chunks;
    const uint8_t* s = src(r);
    uint32_t w[4] = {0, 0, 0, 0};
    if (s) {
      const int nb = widen ? 8 : 16, b0 = k * nb;  // the stored bytes of this step
      uint32_t in[4] = {0, 0, 0, 0};
      if (vec && b0 < src_rb && !widen) {
        const uint4 u = *reinterpret_cast<const uint4*>(s + b0);
        in[0] = u.x, in[1] = u.y, in[2] = u.z, in[3] = u.w;
      } else if (vec && b0 < src_rb) {
        in[0] = reinterpret_cast<const uint32_t*>(s + b0)[0], in[1] = reinterpret_cast<const uint32_t*>(s + b0)[1];
      } else {
        for (int e = 0; e < nb; ++e)
          if (b0 + e < src_rb) in[e / 4] |= uint32_t(s[b0 + e]) << (8 * (e % 4));
      }
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const uint32_t v = widen ? in[i / 2] >> (16 * (i % 2)) & 0xffffu : in[i];
        w[i] = src_bits == 8 ? raise_most_negative<8>(v) : raise_most_negative<4>(v);
        if (widen) w[i] = widen_nibbles(w[i]);
      }
    }
    uint32_t* d = reinterpret_cast<uint32_t*>(dst + r * QB + 16 * k);
#pragma unroll
    for (int i = 0; i < 4; ++i) d[i] = w[i];
  }
}

// Stages V rows [j0, j0 + BN) of one kv head, value(j, x) in fp32, rounded to the pv type,
// or (PV F32) split into bf16 high and low parts (the low part BN rows further on); zero
// past Nk and Dv. 8 columns (16 bytes) per step.
template <int HD, int BN, DType PV, class Value>
SUBQ_DEVICE void stage_v_rows(uint16_t* sV, int j0, int Nk, int Dv, Value value, int tid) {
  constexpr int VS = HD + 8;
  constexpr bool kSplit = PV == DType::F32, kBF16 = PV != DType::F16;
  for (int c = tid; c < BN * (HD / 8); c += 128) {
    const int r = c / (HD / 8), col = (c % (HD / 8)) * 8, j = j0 + r;
    uint32_t hi[4], lo[4];
#pragma unroll
    for (int e = 0; e < 8; e += 2) {
      const float v0 = j < Nk && col + e < Dv ? value(j, col + e) : 0.f;
      const float v1 = j < Nk && col + e + 1 < Dv ? value(j, col + e + 1) : 0.f;
      hi[e / 2] = pack_half2<kBF16>(v0, v1);
      if constexpr (kSplit)
        lo[e / 2] = pack_half2<true>(v0 - half_bits_to_float<true>(uint16_t(hi[e / 2])),
                                     v1 - half_bits_to_float<true>(uint16_t(hi[e / 2] >> 16)));
    }
    *reinterpret_cast<uint4*>(sV + r * VS + col) = uint4{hi[0], hi[1], hi[2], hi[3]};
    if constexpr (kSplit) *reinterpret_cast<uint4*>(sV + (BN + r) * VS + col) = uint4{lo[0], lo[1], lo[2], lo[3]};
  }
}

// pv int8: the key (within a tile) at position pos of the mma's k order. Position
// 16 h + 4 t + e of the A fragment is byte e of the register that lane t (of its group)
// packs from its score accumulators, which hold keys 8 n + 2 t + {0, 1} (ptx.cuh): so
// key 16 h + 8 (e / 2) + 2 t + e % 2, and V'^T is staged in that order.
SUBQ_DEVICE int kv_position_key(int pos) {
  const int h = pos / 16, t = (pos % 16) / 4, e = pos % 4;
  return 16 * h + 8 * (e / 2) + 2 * t + e % 2;
}

// pv int8: 4 int8 columns x .. x + 3 of a position word's 4 keys (b[e]: key e's bytes)
// transposed into V'^T: a word per column, zero from column Dv on.
template <int HD, int BN>
SUBQ_DEVICE void store_vt_columns(uint8_t* sVt, const uint32_t b[4], int x, int Dv, int p4) {
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    uint32_t out = 0;
#pragma unroll
    for (int e = 0; e < 4; ++e) out |= (b[e] >> (8 * i) & 0xffu) << (8 * e);
    if (x + i < HD) *reinterpret_cast<uint32_t*>(sVt + (x + i) * (BN + 16) + 4 * p4) = x + i < Dv ? out : 0u;
  }
}

// pv int8: V' of keys [j0, j0 + BN) of one kv head transposed, sVt[x * (BN + 16) + pos]
// = V'(key at pos, x) as int8 (quant_value's rule), and sVS[r] the V' scale of key
// j0 + r; zero past Nk and Dv. With qp.v_vec (rows 4-byte aligned) a thread reads one
// word of each of a position word's 4 keys (4 INT8 or 8 INT4 columns), raises -128 / -8
// and widens nibbles word-wise as stage_int_rows does, and writes the 4 x 4 byte
// transposes; consecutive threads take consecutive position words, so the stores are
// free of bank conflicts. Otherwise a byte per element.
template <int HD, int BN>
SUBQ_DEVICE void stage_vt(uint8_t* sVt, float* sVS, int j0, int Nk, int Dv, const QuantFwdParams& qp, int64_t bhk,
                          int tid) {
  constexpr int P4 = BN / 4;  // position words per column
  if (qp.v_vec) {
    const bool int8 = qp.v_bits == 8;
    const int cols = int8 ? 4 : 8;  // columns per stored word
    const int words = (Dv + cols - 1) / cols;
    for (int c = tid; c < words * P4; c += 128) {
      const int p4 = c % P4, xw = c / P4, x = xw * cols;
      uint32_t w[4];
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int j = j0 + kv_position_key(4 * p4 + e);
        const uint32_t u = j < Nk ? *reinterpret_cast<const uint32_t*>(qp.vd + (bhk * Nk + j) * qp.v_rb + 4 * xw) : 0u;
        w[e] = int8 ? raise_most_negative<8>(u) : raise_most_negative<4>(u);
      }
      if (int8) {
        store_vt_columns<HD, BN>(sVt, w, x, Dv, p4);
      } else {
        const uint32_t lo[4] = {widen_nibbles(w[0]), widen_nibbles(w[1]), widen_nibbles(w[2]), widen_nibbles(w[3])};
        const uint32_t hi[4] = {widen_nibbles(w[0] >> 16), widen_nibbles(w[1] >> 16), widen_nibbles(w[2] >> 16),
                                widen_nibbles(w[3] >> 16)};
        store_vt_columns<HD, BN>(sVt, lo, x, Dv, p4);
        store_vt_columns<HD, BN>(sVt, hi, x + 4, Dv, p4);
      }
    }
    // The columns no word reaches (from words * cols on, all past Dv): zero.
    const int x0 = min(words * cols, HD);
    for (int c = tid; c < (HD - x0) * P4; c += 128)
      *reinterpret_cast<uint32_t*>(sVt + (x0 + c / P4) * (BN + 16) + 4 * (c % P4)) = 0u;
  } else {
    for (int c = tid; c < HD * P4; c += 128) {
      const int x = c % HD, p4 = c / HD;
      uint32_t w = 0;
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int j = j0 + kv_position_key(4 * p4 + e);
        const int v = j < Nk && x < Dv ? quant_value(qp.vd + (bhk * Nk + j) * qp.v_rb, qp.v_bits, x) : 0;
        w |= uint32_t(uint8_t(int8_t(v))) << (8 * e);
      }
      *reinterpret_cast<uint32_t*>(sVt + x * (BN + 16) + 4 * p4) = w;
    }
  }
  for (int r = tid; r < BN; r += 128) sVS[r] = j0 + r < Nk ? qp.vs[bhk * qp.v_groups + (j0 + r) / qp.v_group] : 0.f;
}

template <int HD, int BITS, DType PV, bool SPARSE>
__global__ void __launch_bounds__(128) attn_fwd_quant(const QuantFwdParams qp) {
  using T = QuantTile<HD, BITS, PV>;
  constexpr int BM = T::kBM, BN = T::kBN, QB = T::kQB, VS = T::kVS, KS = T::kK;
  constexpr bool kSplit = PV == DType::F32, kPv8 = T::kPv8;
  constexpr bool kBF16 = PV != DType::F16;  // the P.V mma's type
  const FwdParams& p = qp.f;
  SIMT_DYNAMIC_SHARED(uint8_t, smem);
  uint8_t* sQ = smem;
  uint8_t* sK = sQ + BM * QB;
  uint16_t* sV = reinterpret_cast<uint16_t*>(sK + BN * QB);  // [kVParts][BN][VS], or pv int8's V'^T
  uint8_t* sVt = sK + BN * QB;                                // pv int8: [HD][kVTS] bytes
  float* sKS = reinterpret_cast<float*>(sK + BN * QB + T::kVBytes);  // per key: K' scale
  float* sQM = sKS + BN;                                            // per key: qm . K'_j
  float* sVS = sQM + BN;                                            // pv int8, per key: V' scale

  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, t4 = lane % 4;
  const int h = blockIdx.y, b = blockIdx.z, hk = h / (p.Hq / p.Hkv);
  const int r0 = blockIdx.x * BM, r1 = min(r0 + BM, p.Nq);
  const int64_t bh = int64_t(b) * p.Hq + h, bhk = int64_t(b) * p.Hkv + hk;

  // Block-sparse: the mask block (64 or 128) is a whole number of BM rows and BN-key tiles.
  const auto blocks = key_tiles<SPARSE, BN>(p, b, h, r0, r1, 0);

  // This thread's rows: warp * 16 + g + 8 * hh; their Q' scale in the scores' unit and bias.
  int pos[2];
  float qsu[2], bias[2];
#pragma unroll
  for (int hh = 0; hh < 2; ++hh) {
    pos[hh] = min(r0 + warp * 16 + g + 8 * hh, p.Nq - 1);
    qsu[hh] = float(double(qp.qs[bh * qp.q_groups + pos[hh] / qp.q_group]) * qp.unit);
    bias[hh] = qp.q_bias ? qp.q_bias[bh * p.Nq + pos[hh]] : 0.f;
  }
  int i_lo, i_hi;
  pos_range(p, r0, r1, &i_lo, &i_hi);

  float o[HD / 8][4];
  float m_run[2] = {-INFINITY, -INFINITY}, l_run[2] = {0.f, 0.f};
#pragma unroll
  for (int d = 0; d < HD / 8; ++d) o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0.f;

  if (blocks.count > 0)
    stage_int_rows<HD, BITS>(sQ, BM, [&](int r) -> const uint8_t* {
      return r0 + r < p.Nq ? qp.qd + (bh * p.Nq + r0 + r) * qp.q_rb : nullptr;
    }, qp.q_bits, qp.q_rb, qp.q_vec, tid);
  const int d_steps = (p.D + KS - 1) / KS, dv_steps = (p.Dv + 15) / 16;
  const uint16_t* sQ16 = reinterpret_cast<const uint16_t*>(sQ);
  const uint16_t* sK16 = reinterpret_cast<const uint16_t*>(sK);
  constexpr int S16 = QB / 2;  // a Q' / K' row in 16-bit units

  for (int it = 0; it < blocks.count; ++it) {
    const int j0 = blocks[it] * BN;
    __syncthreads();  // every warp is done with the previous tiles
    stage_int_rows<HD, BITS>(sK, BN, [&](int r) -> const uint8_t* {
      return j0 + r < p.Nk ? qp.kd + (bhk * p.Nk + j0 + r) * qp.k_rb : nullptr;
    }, qp.k_bits, qp.k_rb, qp.k_vec, tid);
    for (int r = tid; r < BN; r += T::kThreads) {
      const int j = min(j0 + r, p.Nk - 1);
      sKS[r] = qp.ks[bhk * qp.k_groups + j / qp.k_group];
      sQM[r] = qp.qm_k ? qp.qm_k[bh * p.Nk + j] : 0.f;
    }
    // V: V'^T and its scales (pv int8), converted, or dequantized as value * scale (one
    // branch per source, outside the loop).
    auto stage = [&](auto value) { stage_v_rows<HD, BN, PV>(sV, j0, p.Nk, p.Dv, value, tid); };
    const int64_t vb = b * p.v_sb + hk * p.v_sh;
    if constexpr (kPv8) {
      stage_vt<HD, BN>(sVt, sVS, j0, p.Nk, p.Dv, qp, bhk, tid);
    } else if (qp.vd) {
      stage([&](int j, int x) {
        const uint8_t* row = qp.vd + (bhk * p.Nk + j) * qp.v_rb;
        return mul_rn(float(quant_value(row, qp.v_bits, x)), qp.vs[bhk * qp.v_groups + j / qp.v_group]);
      });
    } else if (qp.v_elem == Elem::F16) {
      stage([&](int j, int x) { return load_elem<Elem::F16>(p.v, vb + int64_t(j) * p.v_sn + x); });
    } else if (qp.v_elem == Elem::BF16) {
      stage([&](int j, int x) { return load_elem<Elem::BF16>(p.v, vb + int64_t(j) * p.v_sn + x); });
    } else {
      stage([&](int j, int x) { return load_elem<Elem::F32>(p.v, vb + int64_t(j) * p.v_sn + x); });
    }
    __syncthreads();  // K', V and the per-key terms staged

    // S = Q'.K'^T in s32; each K' fragment pair serves two n-tiles of 8 keys.
    int32_t si[BN / 8][4];
#pragma unroll
    for (int n = 0; n < BN / 8; ++n) si[n][0] = si[n][1] = si[n][2] = si[n][3] = 0;
#pragma unroll
    for (int kk = 0; kk < HD / KS; ++kk) {
      if (kk >= d_steps) break;
      uint32_t a[4];
      ptx::ldmatrix<4, false>(a, sQ16 + (warp * 16 + lane % 16) * S16 + kk * 16 + (lane / 16) * 8);
#pragma unroll
      for (int n2 = 0; n2 < BN / 16; ++n2) {
        uint32_t bk[4];
        const int krow = n2 * 16 + (lane / 16) * 8 + lane % 8;
        ptx::ldmatrix<4, false>(bk, sK16 + krow * S16 + kk * 16 + ((lane / 8) % 2) * 8);
        ptx::mma_int<BITS>(si[2 * n2], a, bk[0], bk[1]);
        ptx::mma_int<BITS>(si[2 * n2 + 1], a, bk[2], bk[3]);
      }
    }

    // Scores in the log2 domain (the CPU's roundings), softcap, masks; the online softmax.
    float s[BN / 8][4];
    const bool masked = !block_fully_visible(p, i_lo, i_hi, j0, BN);
#pragma unroll
    for (int n = 0; n < BN / 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int key = n * 8 + 2 * t4 + e % 2;
        float x = fmaf(float(si[n][e]), mul_rn(qsu[e / 2], sKS[key]), bias[e / 2]);
        if (qp.qm_k) x = add_rn(x, sQM[key]);
        if (p.softcap_in != 0.f) x = tanhf(x) * p.softcap_out;
        if (masked && !key_visible(p, pos[e / 2], j0 + key)) x = -INFINITY;
        s[n][e] = x;
      }
#pragma unroll
    for (int hh = 0; hh < 2; ++hh) {
      float mx = m_run[hh];
#pragma unroll
      for (int n = 0; n < BN / 8; ++n) mx = fmaxf(mx, fmaxf(s[n][2 * hh], s[n][2 * hh + 1]));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
      const float base = mx == -INFINITY ? 0.f : mx;  // a row with nothing visible yet stays 0
      const float corr = fast_exp2(m_run[hh] - base);
      float sum = 0.f;
#pragma unroll
      for (int n = 0; n < BN / 8; ++n) {
        s[n][2 * hh] = fast_exp2(s[n][2 * hh] - base);
        s[n][2 * hh + 1] = fast_exp2(s[n][2 * hh + 1] - base);
        sum += s[n][2 * hh] + s[n][2 * hh + 1];
      }
      l_run[hh] = l_run[hh] * corr + sum;  // this lane's share (unrounded P); reduced at the end
      m_run[hh] = mx;
#pragma unroll
      for (int d = 0; d < HD / 8; ++d) o[d][2 * hh] *= corr, o[d][2 * hh + 1] *= corr;
    }

    if constexpr (kPv8) {
      // P' = round_u8(P * s_v * (255 / m)), m = max of P * s_v over the row's keys of the
      // tile (its 64-key block), in the CPU's fp32 steps; then per 8 output columns the
      // exact s32 P'.V' over the tile, added as O += float(sum) * (m / 255).
      float pscale[2];
      uint32_t pa[2][4];
#pragma unroll
      for (int hh = 0; hh < 2; ++hh) {
        float m = 0.f;
#pragma unroll
        for (int n = 0; n < BN / 8; ++n)
#pragma unroll
          for (int e = 0; e < 2; ++e) m = fmaxf(mul_rn(s[n][2 * hh + e], sVS[n * 8 + 2 * t4 + e]), m);
        m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, 1));
        m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, 2));
        const float inv = m > 0.f ? 255.f / m : 0.f;
        pscale[hh] = m / 255.f;
#pragma unroll
        for (int n = 0; n < BN / 8; ++n)
#pragma unroll
          for (int e = 0; e < 2; ++e)
            s[n][2 * hh + e] = float(round_u8(mul_rn(mul_rn(s[n][2 * hh + e], sVS[n * 8 + 2 * t4 + e]), inv)));
      }
      // A register i of k step kk: row half i % 2, keys of n-tiles 4 kk + 2 (i / 2) + {0, 1}.
#pragma unroll
      for (int kk = 0; kk < 2; ++kk)
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const int n = 4 * kk + 2 * (i / 2), c = 2 * (i % 2);
          pa[kk][i] = uint32_t(s[n][c]) | uint32_t(s[n][c + 1]) << 8 | uint32_t(s[n + 1][c]) << 16 |
                      uint32_t(s[n + 1][c + 1]) << 24;
        }
      const int dv8 = (p.Dv + 7) / 8;
#pragma unroll
      for (int d = 0; d < HD / 8; ++d) {
        if (d >= dv8) break;
        uint32_t bv[4];  // matrix m: columns 8 d .. 8 d + 7, positions 16 m .. 16 m + 15
        ptx::ldmatrix<4, false>(bv, sVt + (8 * d + lane % 8) * T::kVTS + 16 * (lane / 8));
        int32_t acc[4] = {0, 0, 0, 0};
        ptx::mma_u8s8(acc, pa[0], bv[0], bv[1]);
        ptx::mma_u8s8(acc, pa[1], bv[2], bv[3]);
#pragma unroll
        for (int e = 0; e < 4; ++e) o[d][e] = fmaf(float(acc[e]), pscale[e / 2], o[d][e]);
      }
    } else {
      // O += P.V: the score accumulators of two adjacent n-tiles are the A fragment.
#pragma unroll
      for (int kk = 0; kk < BN / 16; ++kk) {
        uint32_t a[4], al[4];
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const float x0 = s[2 * kk + i / 2][2 * (i % 2)], x1 = s[2 * kk + i / 2][2 * (i % 2) + 1];
          a[i] = pack_half2<kBF16>(x0, x1);
          if constexpr (kSplit)
            al[i] = pack_half2<true>(x0 - half_bits_to_float<true>(uint16_t(a[i])),
                                     x1 - half_bits_to_float<true>(uint16_t(a[i] >> 16)));
        }
#pragma unroll
        for (int d2 = 0; d2 < HD / 16; ++d2) {
          if (d2 >= dv_steps) break;
          uint32_t bv[4];
          const int vrow = kk * 16 + ((lane / 8) % 2) * 8 + lane % 8, vcol = d2 * 16 + (lane / 16) * 8;
          ptx::ldmatrix<4, true>(bv, sV + vrow * VS + vcol);
          ptx::mma_m16n8k16<kBF16>(o[2 * d2], a, bv[0], bv[1]);
          ptx::mma_m16n8k16<kBF16>(o[2 * d2 + 1], a, bv[2], bv[3]);
          if constexpr (kSplit) {
            ptx::mma_m16n8k16<true>(o[2 * d2], al, bv[0], bv[1]);
            ptx::mma_m16n8k16<true>(o[2 * d2 + 1], al, bv[2], bv[3]);
            ptx::ldmatrix<4, true>(bv, sV + BN * VS + vrow * VS + vcol);
            ptx::mma_m16n8k16<true>(o[2 * d2], a, bv[0], bv[1]);
            ptx::mma_m16n8k16<true>(o[2 * d2 + 1], a, bv[2], bv[3]);
          }
        }
      }
    }
  }

  // Epilogue: full row sums, normalise, store.
#pragma unroll
  for (int hh = 0; hh < 2; ++hh) {
    l_run[hh] += __shfl_xor_sync(0xffffffffu, l_run[hh], 1);
    l_run[hh] += __shfl_xor_sync(0xffffffffu, l_run[hh], 2);
  }
#pragma unroll
  for (int hh = 0; hh < 2; ++hh) {
    const float l = l_run[hh];
    const int r = r0 + warp * 16 + g + 8 * hh;
    if (r >= p.Nq) continue;
    const RowMap rm{h, r};
    const float inv = l > 0.f ? 1.f / l : 0.f;
#pragma unroll
    for (int d = 0; d < HD / 8; ++d)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int col = d * 8 + 2 * t4 + e;
        const float v = o[d][2 * hh + e] * inv;
        if (qp.out == Elem::F32) store_row_value<Elem::F32>(p, b, 0, rm, col, v);
        else if (qp.out == Elem::F16) store_row_value<Elem::F16>(p, b, 0, rm, col, v);
        else store_row_value<Elem::BF16>(p, b, 0, rm, col, v);
      }
    if (t4 == 0) store_row_lse(p, b, 0, rm, OnlineSoftmax{m_run[hh], l}.lse());
  }
}

template <int HD, int BITS, DType PV, bool SPARSE>
void launch_quant_attn(const QuantFwdParams& qp, dim3 grid, CUstream_st* stream) {
  using T = QuantTile<HD, BITS, PV>;
  launch_with_smem(attn_fwd_quant<HD, BITS, PV, SPARSE>, grid, T::kThreads, T::kSmem, stream, qp);
}

}  // namespace subq::cuda
