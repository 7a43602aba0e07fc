// The attention decode driver: a few query rows per kv head against a long key range,
// cut into ranges that run in parallel and are merged in order.
#include <algorithm>
#include <cmath>
#include <vector>

#include "../core/cancel.h"
#include "../core/quant_params.h"
#include "../core/thread_pool.h"
#include "attention_driver.h"
#include "attention_mask.h"
#include "attention_rows.h"
#include "online_softmax.h"
#include "quant_kernels.h"
#include "rows.h"

namespace subq::cpu {

namespace {

// ---- Decode: at most kDecodeRows packed rows per kv head (see attention_decode_kernel.h).
// Each head's visible keys are cut into ranges, from the shapes alone so that neither
// the split nor the merge order depends on the thread count; the ranges run in
// parallel and every row's partial states are merged in order.
constexpr int64_t kDecodeMinRange = 512;   // keys: shorter ranges do not pay their merge
constexpr int64_t kDecodeItems = 64;       // ranges in all, when heads are few
constexpr int64_t kQuantDecodeRows = 64;   // int8/int4 cache rows dequantized at a time

// Quantized decode. Packed row r of kv head (b, hk) as an index into [B, Hq, Nq].
int64_t quant_row(const AttentionParams& p, int64_t g, int64_t b, int64_t hk, int64_t r) {
  return (b * p.Hq + hk * g + r % g) * p.Nq + r / g;
}

// Decode's query row: deq(Q') + qm (Q' . K' plus smoothQ's qm . K'), times the unit.
void load_q_row_quant(const AttentionParams& p, int64_t g, int64_t b, int64_t hk, int64_t r, float* dst) {
  const QuantView& qv = p.quant->q;
  const int64_t h = hk * g + r % g, n = r / g;
  const uint8_t* row = qv.row(b, h, n);
  const float s = qv.scale(b, h, n);
  const float* qm = qv.mean_row(b, h);
  const double unit = q_scale(p);
  for (int64_t x = 0; x < p.D; ++x) {
    const float y = float(quant_value(row, qv.bits, x)) * s + (qm ? qm[x] : 0.f);
    dst[x] = float(y * unit);
  }
}

// Key j of kv head (b, hk): K' dequantized into k, V (dequantized or converted, rounded
// to the pv type) into v.
void dequant_kv_row(const AttentionParams& p, const QuantKernels& qkern, int64_t b, int64_t hk, int64_t j, float* k,
                    float* v) {
  const QuantQK& qq = *p.quant;
  qkern.dequant(qq.k.row(b, hk, j), qq.k.bits, p.D, qq.k.scale(b, hk, j), k);
  if (qq.v.present()) {
    qkern.dequant(qq.v.row(b, hk, j), qq.v.bits, p.Dv, qq.v.scale(b, hk, j), v);
  } else {
    const float* src = row_f32(p.v, b * p.v.stride[0] + hk * p.v.stride[1] + j * p.v.stride[2], p.Dv, v);
    if (src != v) std::copy_n(src, p.Dv, v);
  }
  if (qq.pv != DType::F32) round_to(qq.pv, v, p.Dv);
}

// Integer decode (quant_decode.h) of packed row r: Q' values zero-padded to dq, their sum,
// scale times the unit, and smoothQ's per-key term.
void load_q_row_int(const AttentionParams& p, int64_t g, int64_t b, int64_t hk, int64_t r, int64_t dq, int8_t* q,
                    int32_t* qsum, float* qs, const float** qm) {
  const QuantQK& qq = *p.quant;
  const QuantView& qv = qq.q;
  const int64_t h = hk * g + r % g, n = r / g;
  const uint8_t* row = qv.row(b, h, n);
  int32_t sum = 0;
  for (int64_t x = 0; x < dq; ++x) sum += q[x] = x < p.D ? int8_t(quant_value(row, qv.bits, x)) : int8_t(0);
  *qsum = sum;
  *qs = float(double(qv.scale(b, h, n)) * q_scale(p));
  *qm = qq.qm_k ? qq.qm_k + (b * p.Hq + h) * p.Nk : nullptr;
}

}  // namespace

bool quant_decode_tile_steps(const AttentionParams& p) {
  if (!p.quant) return false;
  return p.quant->pv == DType::I8 || (p.quant->pv == DType::BF16 && p.quant->v.present());
}

void decode_attention(const AttentionParams& p, const AttentionKernels& kern, const AttentionBf16Kernels* bf16) {
  const QuantKernels& qkern = pick_quant_kernels(kern.tile_q);
  // K' and V' quantized, P.V in fp32, int8 or bf16: the integer kernel reads both caches in
  // place. pv 'int8' and 'bf16' run it in the tiled path's steps (decode_pv8, decode_bf16*)
  // over each head's keys in one range: a split would merge partial states, which rounds off
  // their bits. bf16: the tiles' P.V is the AVX512-BF16 one.
  const bool tile_steps = quant_decode_tile_steps(p);
  const bool pv8 = tile_steps && p.quant->pv == DType::I8;
  void (*qdecode)(const QDecode&) =
      !tile_steps ? qkern.decode : pv8 ? qkern.decode_pv8 : bf16 ? qkern.decode_bf16_dot : qkern.decode_bf16;
  if (!qdecode) return tile_attention(p, kern, bf16);  // AVX512-BF16 without the VNNI table
  const bool int_path = p.quant && p.quant->v.present() && (p.quant->pv == DType::F32 || tile_steps);
  const int64_t g = p.Hq / p.Hkv, rows = g * p.Nq, heads = p.B * p.Hkv, D = p.D, Dv = p.Dv;
  int64_t lo[kDecodeRows], hi[kDecodeRows], first = p.Nk, last = 0;
  for (int64_t r = 0; r < rows; ++r) {
    attention_key_range(p, r / g, r / g + 1, &lo[r], &hi[r]);
    if (lo[r] < hi[r]) first = std::min(first, lo[r]), last = std::max(last, hi[r]);
  }
  const int64_t span = std::max<int64_t>(last - first, 0);
  const int64_t want =
      tile_steps ? 1 : std::clamp<int64_t>(kDecodeItems / heads, 1, std::max<int64_t>(span / kDecodeMinRange, 1));
  const int64_t len = (span + want - 1) / want, ranges = len ? (span + len - 1) / len : 1;
  // Per (head, range): for each row, m, l and o [Dv].
  const int64_t row_floats = Dv + 2, item_floats = rows * row_floats, items = heads * ranges;
  Buf state(items * item_floats, Buf::kUninit);
  const int64_t esize = int64_t(dtype_size(p.k.dtype));

  ThreadPool::instance().run([&](int t, int n) {
    const int64_t i0 = items * t / n, i1 = items * (t + 1) / n;
    if (i0 >= i1) return;
    Buf q(rows * D, Buf::kUninit), m(rows, Buf::kUninit), l(rows, Buf::kUninit);
    // Quantized caches the integer kernel does not take are dequantized kQuantDecodeRows
    // rows at a time into fp32 rows.
    const bool dequant = p.quant && !int_path;
    Buf kc(dequant ? kQuantDecodeRows * D : 0, Buf::kUninit), vc(dequant ? kQuantDecodeRows * Dv : 0, Buf::kUninit);
    const int64_t dq = (D + 63) / 64 * 64;
    std::vector<int8_t> qi(static_cast<size_t>(int_path ? rows * dq : 0));
    int32_t qsum[kDecodeRows];
    float qs[kDecodeRows], bias[kDecodeRows];
    const float* qm[kDecodeRows];
    for (int64_t it = i0; it < i1; ++it) {
      check_cancelled();
      const int64_t h = it / ranges, b = h / p.Hkv, hk = h % p.Hkv;
      const int64_t j0 = first + (it % ranges) * len, j1 = std::min(j0 + len, first + span);
      float* st = state.data() + it * item_floats;
      float* o = st + 2 * rows;  // rows x Dv; m and l are the first 2 * rows floats
      std::fill(m.data(), m.data() + rows, kInitMax);
      std::fill(l.data(), l.data() + rows, 0.f);
      std::fill(o, o + rows * Dv, 0.f);
      if (int_path) {
        const QuantQK& qq = *p.quant;
        for (int64_t r = 0; r < rows; ++r) {
          load_q_row_int(p, g, b, hk, r, dq, qi.data() + r * dq, &qsum[r], &qs[r], &qm[r]);
          bias[r] = qq.q_bias ? qq.q_bias[quant_row(p, g, b, hk, r)] : 0.f;
        }
        const float* ksc = static_cast<const float*>(qq.k.scales.data) + (b * p.Hkv + hk) * qq.k.groups();
        const float* vsc = static_cast<const float*>(qq.v.scales.data) + (b * p.Hkv + hk) * qq.v.groups();
        const QDecode qd{qi.data(), qsum, qs, qq.qm_k ? qm : nullptr, int(rows), D, dq, Dv, qq.k.row(b, hk, 0),
                         qq.v.row(b, hk, 0), qq.k.row_bytes(), qq.v.row_bytes(), qq.k.bits, qq.v.bits, ksc, vsc,
                         qq.k.group, qq.v.group, j0, j1 - j0, lo, hi, softcap_log2(p), kern.softcap, m.data(), l.data(), o,
                         tile_steps ? bias : nullptr, kern.softmax_rows};
        if (j1 > j0) qdecode(qd);
        std::copy_n(m.data(), rows, st);
        std::copy_n(l.data(), rows, st + rows);
        continue;
      }
      for (int64_t r = 0; r < rows; ++r) {
        if (p.quant) load_q_row_quant(p, g, b, hk, r, q.data() + r * D);
        else load_q_row(p, g, b, hk, r, q.data() + r * D);
      }
      const int64_t kb = b * p.k.stride[0] + hk * p.k.stride[1], vb = b * p.v.stride[0] + hk * p.v.stride[1];
      const int64_t ks = p.k.stride[2], vs = p.v.stride[2];
      if (p.quant) {
        // The int8/int4 cache read as it is, a chunk of rows dequantized at a time.
        DecodeRange dr{q.data(), int(rows), D, Dv, DType::F32, kc.data(), vc.data(), D, Dv, 0, 0, lo, hi,
                       softcap_log2(p), kern.softcap, m.data(), l.data(), o};
        for (int64_t j = j0; j < j1; j += kQuantDecodeRows) {
          dr.j0 = j;
          dr.nk = std::min(kQuantDecodeRows, j1 - j);
          for (int64_t x = 0; x < dr.nk; ++x) dequant_kv_row(p, qkern, b, hk, j + x, kc.data() + x * D, vc.data() + x * Dv);
          kern.decode(dr);
        }
      } else if (j1 > j0) {
        const DecodeRange dr{q.data(), int(rows), D, Dv, p.k.dtype,
                             static_cast<const char*>(p.k.data) + (kb + j0 * ks) * esize,
                             static_cast<const char*>(p.v.data) + (vb + j0 * vs) * esize,
                             ks, vs, j0, j1 - j0, lo, hi, softcap_log2(p), kern.softcap, m.data(), l.data(), o};
        kern.decode(dr);
      }
      std::copy_n(m.data(), rows, st);
      std::copy_n(l.data(), rows, st + rows);
    }
  });

  // Merge each row's ranges in order: m = max m_c, l = sum l_c 2^(m_c - m), likewise o.
  ThreadPool::instance().run([&](int t, int n) {
    std::vector<float> o(static_cast<size_t>(Dv));
    for (int64_t h = heads * t / n; h < heads * (t + 1) / n; ++h)
      for (int64_t r = 0; r < rows; ++r) {
        StateMerge merged;
        for (int64_t c = 0; c < ranges; ++c) merged.see(state[(h * ranges + c) * item_floats + r]);
        std::fill(o.begin(), o.end(), 0.f);
        for (int64_t c = 0; c < ranges; ++c) {
          const float* st = state.data() + (h * ranges + c) * item_floats;
          const float w = merged.absorb(st[r], st[rows + r]);
          for (int64_t x = 0; x < Dv; ++x) o[size_t(x)] += st[2 * rows + r * Dv + x] * w;
        }
        // A quantized call's q . km shifts the LSE only (decode runs without a softcap then);
        // in the tiled path's steps it is in the scores, as the tiles have it.
        const float bias = p.quant && p.quant->q_bias && !tile_steps ? p.quant->q_bias[quant_row(p, g, h / p.Hkv, h % p.Hkv, r)] : 0.f;
        store_row(p, g, h / p.Hkv, h % p.Hkv, r, o.data(), merged.m + bias, float(merged.l));
      }
  });
}

}  // namespace subq::cpu
