// Launches of the quantization kernels (quant.cuh), one instantiation per input type.
#include "quant_launch.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>

#include "../core/error.h"
#include "../core/log2.h"
#include "attn_launch.h"
#include "launch_check.cuh"
#include "quant.cuh"
#include "quant_attn_params.cuh"

namespace subq::cuda {

namespace {

QuantBufs bufs(const QuantView& v) {
  QuantBufs q{};
  q.data = static_cast<uint8_t*>(v.data.data);
  q.scales = static_cast<float*>(v.scales.data);
  q.mean = static_cast<float*>(v.mean.data);
  q.bits = v.bits, q.group = v.group;
  q.B = int(v.B), q.H = int(v.H), q.N = int(v.N), q.D = int(v.D);
  return q;
}

template <Elem E>
void quantize_typed(const QuantizeParams& p, CUstream_st* stream) {
  const QuantSrc s{p.x.data, p.x.stride[0], p.x.stride[1], p.x.stride[2]};
  const QuantBufs q = bufs(p.out);
  if (q.mean) {
    const int64_t n = int64_t(q.B) * q.H * q.D;
    SIMT_LAUNCH(quant_mean<E>, dim3(unsigned((n + 127) / 128)), dim3(128), 0, stream, s, q);
  }
  // Threads for a group's elements, whole warps, at most 256.
  const int64_t elems = std::min<int64_t>(p.out.group, p.out.N) * p.out.D;
  const int threads = int(std::clamp<int64_t>((elems + 31) / 32 * 32, 32, 256));
  const dim3 grid(unsigned(p.out.groups()), unsigned(q.H), unsigned(q.B));
  SIMT_LAUNCH(quant_values<E>, grid, dim3(threads), threads / 32 * sizeof(float), stream, s, q);
}

}  // namespace

void quantize_launch(const QuantizeParams& p, CUstream_st* stream) {
  if (p.out.B > 65535 || p.out.H > 65535 || p.out.groups() >= (int64_t(1) << 31) || p.out.N >= (int64_t(1) << 31))
    range_error("CUDA quantize supports up to 65535 batches and heads and fewer than 2^31 tokens, got B = " +
                std::to_string(p.out.B) + ", H = " + std::to_string(p.out.H) + ", N = " + std::to_string(p.out.N));
  with_elem(p.x.dtype, [&](auto e) { quantize_typed<decltype(e)::value>(p, stream); });
  check_last_launch("quantize");
}

void dequantize_launch(const DequantizeParams& p, CUstream_st* stream) {
  const QuantView& v = p.in;
  if (v.B > 65535 || v.H > 65535 || v.N >= (int64_t(1) << 31))
    range_error("CUDA dequantize supports up to 65535 batches and heads and fewer than 2^31 tokens, got B = " +
                std::to_string(v.B) + ", H = " + std::to_string(v.H) + ", N = " + std::to_string(v.N));
  const int threads = int(std::clamp<int64_t>((v.D + 31) / 32 * 32, 32, 256));
  SIMT_LAUNCH(dequant_rows, dim3(unsigned(v.N), unsigned(v.H), unsigned(v.B)), dim3(threads), 0, stream, bufs(v),
              p.out.ptr<float>(), p.out.stride[0], p.out.stride[1], p.out.stride[2]);
  check_last_launch("dequantize");
}

namespace {

// The workspace of a quantized attention call: Q' (and K' when quantized in the call,
// and V' for pv int8 without a quantized v) with scales and means, and the smoothing
// terms; offsets 256-byte aligned. With a null base only the size is computed.
struct QuantWork {
  QuantView q, k, v;
  float* q_bias = nullptr;  // [B, Hq, Nq] when K' is smoothed
  float* qm_k = nullptr;    // [B, Hq, Nk] with smoothQ
  int64_t bytes = 0;

  QuantWork(const QuantAttentionParams& p, char* base) {
    const AttentionParams& a = p.attn;
    auto take = [&](int64_t n) -> void* {
      void* r = base ? base + bytes : nullptr;
      bytes += (n + 255) / 256 * 256;
      return r;
    };
    auto quantized = [&](int bits, int64_t H, int64_t N, int64_t D, int64_t group, bool smooth) {
      QuantView v;
      v.bits = bits, v.group = group, v.B = a.B, v.H = H, v.N = N, v.D = D;
      v.data.data = take(a.B * H * N * v.row_bytes());
      v.scales.data = take(a.B * H * v.groups() * 4);
      if (smooth) v.mean.data = take(a.B * H * D * 4);
      return v;
    };
    q = quantized(p.qk_bits, a.Hq, a.Nq, a.D, p.per_token ? 1 : kQBlock, p.smooth_q);
    k = p.kq.present() ? p.kq : quantized(p.qk_bits, a.Hkv, a.Nk, a.D, p.per_token ? 1 : kKBlock, p.smooth_k);
    // pv int8 without a quantized v: V quantized as the CPU does (int8, the call's
    // granularity, unsmoothed; cpu/quant.cpp).
    if (p.pv == DType::I8) v = p.vq.present() ? p.vq : quantized(8, a.Hkv, a.Nk, a.Dv, p.per_token ? 1 : kKBlock, false);
    else v = p.vq;
    const bool k_smoothed = p.kq.present() ? p.kq.mean.data != nullptr : p.smooth_k;
    if (k_smoothed) q_bias = static_cast<float*>(take(a.B * a.Hq * a.Nq * 4));
    if (p.smooth_q) qm_k = static_cast<float*>(take(a.B * a.Hq * a.Nk * 4));
  }
};

// The scores' unit (the CPU driver's): scale * log2 e, or scale / softcap with a softcap.
double score_unit(const AttentionParams& p) {
  return p.softcap > 0 ? double(p.scale) / p.softcap : p.scale * kLog2e;
}

// The kernel for the call, by the template parameters of launch_quant_attn.
template <int HD, int BITS, bool SPARSE>
void launch_by_pv(const QuantFwdParams& qp, DType pv, dim3 grid, CUstream_st* stream) {
  if (pv == DType::F16) launch_quant_attn<HD, BITS, DType::F16, SPARSE>(qp, grid, stream);
  else if (pv == DType::BF16) launch_quant_attn<HD, BITS, DType::BF16, SPARSE>(qp, grid, stream);
  else if (pv == DType::I8) launch_quant_attn<HD, BITS, DType::I8, SPARSE>(qp, grid, stream);
  else launch_quant_attn<HD, BITS, DType::F32, SPARSE>(qp, grid, stream);
}

template <int HD, bool SPARSE>
void launch_by_bits(const QuantFwdParams& qp, DType pv, dim3 grid, CUstream_st* stream) {
  if (qp.q_bits == 4 && qp.k_bits == 4) launch_by_pv<HD, 4, SPARSE>(qp, pv, grid, stream);
  else launch_by_pv<HD, 8, SPARSE>(qp, pv, grid, stream);
}

template <bool SPARSE>
void launch_by_head_dim(const QuantFwdParams& qp, int64_t hd, DType pv, dim3 grid, CUstream_st* stream) {
  if (hd <= 64) launch_by_bits<64, SPARSE>(qp, pv, grid, stream);
  else if (hd <= 128) launch_by_bits<128, SPARSE>(qp, pv, grid, stream);
  else launch_by_bits<256, SPARSE>(qp, pv, grid, stream);
}

}  // namespace

int64_t quant_attention_workspace(const QuantAttentionParams& p) { return QuantWork(p, nullptr).bytes; }

void quant_attention_launch(const QuantAttentionParams& p, void* workspace, CUstream_st* stream) {
  const AttentionParams& a = p.attn;
  if (a.Nq >= (int64_t(1) << 30) || a.Nk >= (int64_t(1) << 30) || a.B > 65535 || a.Hq > 65535)
    range_error("CUDA quantizedAttention supports sequences shorter than 2^30 and batch and head counts up to "
                "65535, got B = " + std::to_string(a.B) + ", Hq = " + std::to_string(a.Hq) + ", Nq = " +
                std::to_string(a.Nq) + ", Nk = " + std::to_string(a.Nk));
  const QuantWork w(p, static_cast<char*>(workspace));

  // Q' (and K'), then the smoothing terms.
  QuantizeParams qz;
  qz.x = a.q, qz.out = w.q, qz.smooth = p.smooth_q;
  quantize_launch(qz, stream);
  if (!p.kq.present()) {
    QuantizeParams kz;
    kz.x = a.k, kz.out = w.k, kz.smooth = p.smooth_k;
    quantize_launch(kz, stream);
  }
  if (w.v.present() && !p.vq.present()) {
    QuantizeParams vz;
    vz.x = a.v, vz.out = w.v;
    quantize_launch(vz, stream);
  }
  const double unit = score_unit(a);
  const QuantSrc qsrc{a.q.data, a.q.stride[0], a.q.stride[1], a.q.stride[2]};
  if (w.q_bias) {
    const int64_t n = a.B * a.Hq * a.Nq;
    with_elem(a.q.dtype, [&](auto e) {
      SIMT_LAUNCH(quant_q_bias<decltype(e)::value>, dim3(unsigned((n + 127) / 128)), dim3(128), 0, stream, qsrc,
                  static_cast<const float*>(w.k.mean.data), int(a.B), int(a.Hq), int(a.Nq), int(a.D),
                  int(a.Hq / a.Hkv), unit, w.q_bias);
    });
  }
  if (w.qm_k) {
    const int64_t n = a.B * a.Hq * a.Nk;
    SIMT_LAUNCH(quant_qm_k, dim3(unsigned((n + 127) / 128)), dim3(128), 0, stream,
                static_cast<const float*>(w.q.mean.data), bufs(w.k), int(a.Hq), unit, w.qm_k);
  }
  check_last_launch("quantizedAttention (quantizing)");

  QuantFwdParams qp{};
  FwdParams& f = qp.f;
  f.v = a.v.data, f.o = a.out.data;
  f.lse = a.lse.data ? a.lse.ptr<float>() : nullptr;
  f.v_sb = a.v.stride[0], f.v_sh = a.v.stride[1], f.v_sn = a.v.stride[2];
  f.o_sb = a.out.stride[0], f.o_sh = a.out.stride[1], f.o_sn = a.out.stride[2];
  if (a.lse.data) f.lse_sb = a.lse.stride[0], f.lse_sh = a.lse.stride[1], f.lse_sn = a.lse.stride[2];
  f.B = int(a.B), f.Hq = int(a.Hq), f.Hkv = int(a.Hkv), f.Nq = int(a.Nq), f.Nk = int(a.Nk);
  f.D = int(a.D), f.Dv = int(a.Dv);
  f.group = 1, f.rows = f.Nq, f.splits = 1;
  // Scores arrive in the unit; the softcap is tanh(s) times the softcap in log2 units.
  f.softcap_in = a.softcap > 0 ? 1.f : 0.f;
  f.softcap_out = float(double(a.softcap) * kLog2e);
  f.window_left = int(a.window_left), f.window_right = int(a.window_right);
  f.mask = mask_params(a);
  qp.out = elem_of(a.q.dtype);
  auto int_view = [](const QuantView& v, const uint8_t*& d, const float*& s, int& bits, int& rb, int64_t& group,
                     int64_t& groups) {
    d = static_cast<const uint8_t*>(v.data.data), s = static_cast<const float*>(v.scales.data);
    bits = v.bits, rb = int(v.row_bytes()), group = v.group, groups = v.groups();
  };
  int_view(w.q, qp.qd, qp.qs, qp.q_bits, qp.q_rb, qp.q_group, qp.q_groups);
  int_view(w.k, qp.kd, qp.ks, qp.k_bits, qp.k_rb, qp.k_group, qp.k_groups);
  auto vec = [](const uint8_t* d, int rb) { return reinterpret_cast<uintptr_t>(d) % 16 == 0 && rb % 16 == 0; };
  qp.q_vec = vec(qp.qd, qp.q_rb), qp.k_vec = vec(qp.kd, qp.k_rb);
  qp.q_bias = w.q_bias, qp.qm_k = w.qm_k;
  qp.unit = unit;
  qp.v_elem = elem_of(a.v.dtype);
  if (w.v.present()) int_view(w.v, qp.vd, qp.vs, qp.v_bits, qp.v_rb, qp.v_group, qp.v_groups);
  qp.v_vec = reinterpret_cast<uintptr_t>(qp.vd) % 4 == 0 && qp.v_rb % 4 == 0;

  const int64_t hd = std::max(a.D, a.Dv);
  const dim3 grid(unsigned((a.Nq + 63) / 64), unsigned(a.Hq), unsigned(a.B));
  if (a.mask.active()) launch_by_head_dim<true>(qp, hd, p.pv, grid, stream);
  else launch_by_head_dim<false>(qp, hd, p.pv, grid, stream);
  check_last_launch("quantizedAttention");
}

}  // namespace subq::cuda
