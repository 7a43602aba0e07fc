// The parameters of the quantized attention kernel (quant_attn.cuh) and its launch,
// explicitly instantiated in quant_attn_i8.cu (the s8 mma) and quant_attn_i4.cu (s4).
#pragma once
#include <cstdint>

#include "attn_params.cuh"
#include "attn_store.cuh"
#include "softmax.cuh"

namespace subq::cuda {

// What the kernel reads besides FwdParams (whose q and k are unused: Q' and K' are).
struct QuantFwdParams {
  FwdParams f;           // shapes, V / O / LSE views, window, softcap_out, mask; group 1, splits 1
  Elem out;              // the output's type (that of q)
  const uint8_t* qd;     // Q' [B, Hq, Nq, q_rb]
  const float* qs;       // [B, Hq, q_groups]
  int q_bits, q_rb;
  int64_t q_group, q_groups;
  bool q_vec;            // rows 16-byte aligned, q_rb a multiple of 16
  const uint8_t* kd;     // K' [B, Hkv, Nk, k_rb]
  const float* ks;       // [B, Hkv, k_groups]
  int k_bits, k_rb;
  int64_t k_group, k_groups;
  bool k_vec;
  const float* q_bias;   // [B, Hq, Nq]: unit * q_i . km, or null
  const float* qm_k;     // [B, Hq, Nk]: unit * qm . deq(K'_j), or null
  double unit;           // the scores' unit
  // V: f.v of type v_elem, or quantized (vd non-null; always with pv int8): [B, Hkv, Nk,
  // v_rb], scales vs.
  Elem v_elem;
  const uint8_t* vd;
  const float* vs;
  int v_bits, v_rb;
  int64_t v_group, v_groups;
  bool v_vec;            // vd's rows 4-byte aligned (v_rb a multiple of 4)
};

// Launches attn_fwd_quant on `grid` = (query blocks of 64 rows, Hq, B). HD: 64, 128
// or 256; BITS: the integer mma (4 only when Q' and K' are both INT4); PV: the P.V
// rounding (F32: the bf16 split; I8: pv 'int8', V' from vd); SPARSE: walk p.f.mask's key blocks.
template <int HD, int BITS, DType PV, bool SPARSE>
void launch_quant_attn(const QuantFwdParams& qp, dim3 grid, CUstream_st* stream);

}  // namespace subq::cuda
