// K and V staging of the attention tile driver (attention_tiles.cpp): key blocks copied,
// converted or quantized once per thread and (batch, kv head) into the layouts the
// kernels read, and kept while that head's tiles run.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "../core/attention_params.h"
#include "../core/quant_params.h"
#include "attention_bf16_kernels.h"
#include "attention_kernels.h"
#include "attention_rows.h"
#include "rows.h"

namespace subq::cpu {
namespace {

// K and V copied to fp32 are kept per thread up to this many bytes.
constexpr int64_t kCopyBudget = int64_t(32) << 20;

// number of cache lines as padded_stride does for fp32 rows.
int64_t padded_bytes(int64_t d) {
  const int64_t lines = (d + 63) / 64;
  return (lines % 2 ? lines : lines + 1) * 64;
}

// Row stride of staged K, V^T and V rows: a whole, odd number of cache lines. With a
// power-of-two stride the rows a micro-kernel reads together pile into a few L1 sets.
int64_t padded_stride(int64_t n) {
  const int64_t lines = (n + 15) / 16;
  return (lines % 2 ? lines : lines + 1) * 16;
}

// Value row j of kv head (b, hk) in fp32: in place, or written to buf (converted, or a
// quantized call's V' dequantized).
const float* value_row(const AttentionParams& p, int64_t b, int64_t hk, int64_t j, float* buf) {
  if (p.quant && p.quant->v.present()) {
    const QuantView& qv = p.quant->v;
    const uint8_t* row = qv.row(b, hk, j);
    const float s = qv.scale(b, hk, j);
    for (int64_t x = 0; x < p.Dv; ++x) buf[x] = float(quant_value(row, qv.bits, x)) * s;
    return buf;
  }
  return row_f32(p.v, b * p.v.stride[0] + hk * p.v.stride[1] + j * p.v.stride[2], p.Dv, buf);
}

// One key block of K and V in fp32: K as rows, V as rows of V^T (transposed) or, read in
// place, as rows of V.
struct KvBlock {
  const float* k;
  int64_t ks;
  const float* v;
  int64_t vs;
  bool transposed;
  // Quantized calls: K' rows in int8 (stride kqs bytes), each key's scale and value sum.
  const int8_t* kq = nullptr;
  int64_t kqs = 0;
  const float* kscale = nullptr;
  const int32_t* ksum = nullptr;
};

// Blocks are staged (fp16/bf16: converted) once per thread and (batch, kv head), K as
// padded rows and V transposed, and kept while that head's tiles run: the whole head when
// it fits kCopyBudget, else a ring of blocks. Where few query tiles read a head (decode)
// the transposition does not pay: V stays in rows, fp32 K and V are read in place and
// fp16/bf16 ones converted to padded rows.
class KvRows {
 public:
  // stage_v false: K only (a quantized call whose V VtPairs stages).
  KvRows(const AttentionParams& p, const AttentionKernels& kern, int64_t bk, int64_t tiles_per_kv_head, bool stage_v)
      : p_(p), kern_(kern), bk_(bk), quant_(p.quant), transpose_(tiles_per_kv_head >= 4), stage_v_(stage_v),
        copy_(p.k.dtype != DType::F32 || transpose_ || quant_), ks_(padded_stride(p.D)),
        vs_(transpose_ ? padded_stride(bk) : padded_stride(p.Dv)), kqs_(padded_bytes(p.D)) {
    if (!copy_) return;
    const bool v_in_place = p.v.dtype == DType::F32 && !(quant_ && (quant_->v.present() || quant_->pv != DType::F32));
    if (stage_v_ && transpose_ && !v_in_place) vrows_ = Buf(bk_ * p.Dv, Buf::kUninit);
    const int64_t nblocks = (p.Nk + bk_ - 1) / bk_;
    // Quantized: int8 K' rows (kqs_ bytes), a scale and a sum per key, instead of fp32 K.
    const int64_t k_floats = quant_ ? bk_ * (kqs_ / 4 + 2) : bk_ * ks_;
    const int64_t block_bytes = (k_floats + v_floats()) * int64_t(sizeof(float));
    slots_ = std::clamp<int64_t>(kCopyBudget / block_bytes, 1, std::max<int64_t>(nblocks, 1));
    k_ = Buf(slots_ * k_floats, Buf::kUninit);
    v_ = Buf(slots_ * v_floats(), Buf::kUninit);
    tag_.assign(size_t(slots_), -1);
  }

  void select(int64_t b, int64_t hk) {
    kb_ = b * p_.k.stride[0] + hk * p_.k.stride[1];
    vb_ = b * p_.v.stride[0] + hk * p_.v.stride[1];
    if (copy_ && (b != b_ || hk != hk_)) std::fill(tag_.begin(), tag_.end(), -1);
    b_ = b;
    hk_ = hk;
  }

  KvBlock block(int64_t blk) {
    const int64_t j0 = blk * bk_, nk = std::min(bk_, p_.Nk - j0);
    const int64_t ksrc = p_.k.stride[2], vsrc = p_.v.stride[2];
    if (!copy_) return {p_.k.ptr<float>() + kb_ + j0 * ksrc, ksrc, p_.v.ptr<float>() + vb_ + j0 * vsrc, vsrc, false};
    const int64_t slot = blk % slots_;
    float* kd = k_.data() + slot * (quant_ ? bk_ * (kqs_ / 4 + 2) : bk_ * ks_);
    float* vd = v_.data() + slot * v_floats();
    int8_t* kq = reinterpret_cast<int8_t*>(kd);
    float* kscale = kd + bk_ * kqs_ / 4;
    int32_t* ksum = reinterpret_cast<int32_t*>(kscale + bk_);
    if (tag_[size_t(slot)] != blk) {
      if (quant_) {
        stage_quant_k(j0, nk, kq, kscale, ksum);
      } else {
        for (int64_t r = 0; r < nk; ++r) {
          float* kr = kd + r * ks_;
          const float* k = row_f32(p_.k, kb_ + (j0 + r) * ksrc, p_.D, kr);
          if (k != kr) std::copy_n(k, p_.D, kr);
        }
      }
      if (stage_v_) stage_v(j0, nk, vd);
      tag_[size_t(slot)] = blk;
    }
    if (quant_) return {nullptr, 0, vd, vs_, transpose_, kq, kqs_, kscale, ksum};
    return {kd, ks_, vd, vs_, transpose_};
  }

 private:
  // Floats of V per block: V^T rows of a block's keys, or a block's V rows.
  int64_t v_floats() const { return !stage_v_ ? 0 : transpose_ ? p_.Dv * vs_ : bk_ * vs_; }

  // Keys [j0, j0 + nk) of V into vd: V^T rows, or V rows.
  void stage_v(int64_t j0, int64_t nk, float* vd) {
    if (transpose_) {
      // fp32 rows in place, or converted into vrows_, then transposed.
      const float* v = p_.v.ptr<float>() + vb_ + j0 * p_.v.stride[2];
      int64_t vs = p_.v.stride[2];
      if (vrows_) {
        for (int64_t r = 0; r < nk; ++r) {
          float* vr = vrows_.data() + r * p_.Dv;
          const float* src = v_row(j0 + r, vr);
          if (src != vr) std::copy_n(src, p_.Dv, vr);
        }
        v = vrows_.data();
        vs = p_.Dv;
      }
      kern_.transpose(v, vs, nk, p_.Dv, vd, vs_);
    } else {
      for (int64_t r = 0; r < nk; ++r) {
        float* vr = vd + r * vs_;
        const float* v = v_row(j0 + r, vr);
        if (v != vr) std::copy_n(v, p_.Dv, vr);
      }
    }
  }

  // Quantized calls: keys [j0, j0 + nk) of K' as zero-padded int8 rows, their scales and
  // value sums.
  void stage_quant_k(int64_t j0, int64_t nk, int8_t* kq, float* kscale, int32_t* ksum) const {
    const QuantView& k = quant_->k;
    for (int64_t r = 0; r < nk; ++r) {
      int8_t* dst = kq + r * kqs_;
      quant_values(k.row(b_, hk_, j0 + r), k.bits, p_.D, dst);
      int32_t sum = 0;
      for (int64_t x = 0; x < p_.D; ++x) sum += dst[x];
      std::fill(dst + p_.D, dst + (p_.D + 3) / 4 * 4, int8_t(0));
      kscale[r] = k.scale(b_, hk_, j0 + r);
      ksum[r] = sum;
    }
  }

  // Value row j of the current head in fp32 (value_row), rounded to a quantized call's pv
  // type.
  const float* v_row(int64_t j, float* buf) const {
    const float* v = value_row(p_, b_, hk_, j, buf);
    if (quant_ && quant_->pv != DType::F32) {
      if (v != buf) std::copy_n(v, p_.Dv, buf);
      round_to(quant_->pv, buf, p_.Dv);
      v = buf;
    }
    return v;
  }

  const AttentionParams& p_;
  const AttentionKernels& kern_;
  const int64_t bk_;
  const QuantQK* quant_;
  bool transpose_, stage_v_, copy_;
  int64_t ks_, vs_, kqs_, slots_ = 0, b_ = -1, hk_ = -1, kb_ = 0, vb_ = 0;
  Buf k_, v_, vrows_;
  std::vector<int64_t> tag_;
};

// The bf16 P.V's staging: V per key block as V^T in pairs of keys
// (attention_bf16_kernels.h), padded rows, once per thread and (batch, kv head) and kept
// like KvRows' copies: the whole head when it fits kCopyBudget, else a ring. bf16 V is
// read in place; any other V (fp32, fp16, a quantized call's V' dequantized) is rounded
// to bf16 rows first (nearest even, as pv bf16 rounds).
class VtPairs {
 public:
  VtPairs(const AttentionParams& p, const AttentionBf16Kernels& kern, int64_t bk)
      : p_(p), kern_(kern), bk_(bk), vts_(padded_stride((bk + 1) / 2)), pairs_((bk + 1) / 2 * p.Dv, Buf::kUninit) {
    if (p.v.dtype != DType::BF16 || (p.quant && p.quant->v.present())) {
      rows_ = Buf((bk * p.Dv + 1) / 2, Buf::kUninit);
      row_ = Buf(p.Dv, Buf::kUninit);
    }
    const int64_t nblocks = (p.Nk + bk_ - 1) / bk_;
    const int64_t block_bytes = p.Dv * vts_ * int64_t(sizeof(uint32_t));
    slots_ = std::clamp<int64_t>(kCopyBudget / block_bytes, 1, std::max<int64_t>(nblocks, 1));
    vt_ = Buf(slots_ * p.Dv * vts_, Buf::kUninit);
    tag_.assign(size_t(slots_), -1);
  }

  void select(int64_t b, int64_t hk) {
    vb_ = b * p_.v.stride[0] + hk * p_.v.stride[1];
    if (b != b_ || hk != hk_) std::fill(tag_.begin(), tag_.end(), -1);
    b_ = b;
    hk_ = hk;
  }

  // V^T pairs of block blk: row x holds the value column x, pair i keys 2i, 2i + 1 of the
  // block (an odd last key paired with 0).
  const uint32_t* block(int64_t blk) {
    const int64_t slot = blk % slots_;
    uint32_t* vt = reinterpret_cast<uint32_t*>(vt_.data()) + slot * p_.Dv * vts_;
    if (tag_[size_t(slot)] != blk) {
      const int64_t j0 = blk * bk_, nk = std::min(bk_, p_.Nk - j0), n2 = (nk + 1) / 2;
      int64_t vs = p_.v.stride[2];
      const uint16_t* v = p_.v.ptr<uint16_t>() + vb_ + j0 * vs;
      if (rows_) {
        uint16_t* rows = reinterpret_cast<uint16_t*>(rows_.data());
        for (int64_t r = 0; r < nk; ++r)
          f32_to_half(DType::BF16, value_row(p_, b_, hk_, j0 + r, row_.data()), rows + r * p_.Dv, p_.Dv);
        v = rows;
        vs = p_.Dv;
      }
      uint32_t* pairs = reinterpret_cast<uint32_t*>(pairs_.data());
      for (int64_t i = 0; i < n2; ++i)
        kern_.pair_rows(v + 2 * i * vs, 2 * i + 1 < nk ? v + (2 * i + 1) * vs : nullptr, p_.Dv, pairs + i * p_.Dv);
      kern_.transpose(pairs, p_.Dv, n2, p_.Dv, vt, vts_);
      tag_[size_t(slot)] = blk;
    }
    return vt;
  }

  int64_t stride() const { return vts_; }

 private:
  const AttentionParams& p_;
  const AttentionBf16Kernels& kern_;
  const int64_t bk_, vts_;
  int64_t slots_ = 0, b_ = -1, hk_ = -1, vb_ = 0;
  Buf rows_, row_;   // V not in bf16: a block's rows rounded to bf16; one row in fp32
  Buf pairs_, vt_;  // a block's key pairs in rows; the staged V^T pairs
  std::vector<int64_t> tag_;
};

// pv 'int8''s staging: V' (the quantized V: a pre-quantized cache or V quantized in the
// call) per key block as V'^T int8 rows (quant_kernels.h's PvInt), keys zero-padded to a
// multiple of 4, with each key's V' scale; once per thread and (batch, kv head), kept like
// KvRows' copies: the whole head when it fits kCopyBudget, else a ring.
class VtInt8 {
 public:
  struct Block {
    const int8_t* vt;
    const float* scale;
  };

  VtInt8(const AttentionParams& p, int64_t bk)
      : p_(p), qv_(p.quant->v), bk_(bk), vts_(padded_bytes((bk + 3) / 4 * 4)), row_(size_t(4 * p.Dv)) {
    const int64_t nblocks = (p.Nk + bk_ - 1) / bk_;
    const int64_t block_bytes = p.Dv * vts_ + bk_ * int64_t(sizeof(float));
    slots_ = std::clamp<int64_t>(kCopyBudget / block_bytes, 1, std::max<int64_t>(nblocks, 1));
    vt_.resize(size_t(slots_ * p.Dv * vts_));
    scale_.resize(size_t(slots_ * bk_));
    tag_.assign(size_t(slots_), -1);
  }

  void select(int64_t b, int64_t hk) {
    if (b != b_ || hk != hk_) std::fill(tag_.begin(), tag_.end(), -1);
    b_ = b;
    hk_ = hk;
  }

  Block block(int64_t blk) {
    const int64_t slot = blk % slots_;
    int8_t* vt = vt_.data() + slot * p_.Dv * vts_;
    float* scale = scale_.data() + slot * bk_;
    if (tag_[size_t(slot)] != blk) {
      const int64_t j0 = blk * bk_, nk = std::min(bk_, p_.Nk - j0);
      // Four keys at a time: their rows unpacked, then one 32-bit word per column.
      for (int64_t r0 = 0; r0 < nk; r0 += 4) {
        for (int64_t c = 0; c < 4; ++c) {
          int8_t* row = row_.data() + c * p_.Dv;
          if (r0 + c < nk) {
            quant_values(qv_.row(b_, hk_, j0 + r0 + c), qv_.bits, p_.Dv, row);
            scale[r0 + c] = qv_.scale(b_, hk_, j0 + r0 + c);
          } else {
            std::fill(row, row + p_.Dv, int8_t(0));  // keys padded with 0
          }
        }
        const uint8_t* rows = reinterpret_cast<const uint8_t*>(row_.data());
        for (int64_t x = 0; x < p_.Dv; ++x) {
          const uint32_t w = uint32_t(rows[x]) | uint32_t(rows[p_.Dv + x]) << 8 | uint32_t(rows[2 * p_.Dv + x]) << 16 |
                             uint32_t(rows[3 * p_.Dv + x]) << 24;
          std::memcpy(vt + x * vts_ + r0, &w, 4);
        }
      }
      tag_[size_t(slot)] = blk;
    }
    return {vt, scale};
  }

  int64_t stride() const { return vts_; }

 private:
  const AttentionParams& p_;
  const QuantView& qv_;
  const int64_t bk_, vts_;
  int64_t slots_ = 0, b_ = -1, hk_ = -1;
  std::vector<int8_t> row_, vt_;  // four keys' V' rows; the staged V'^T
  std::vector<float> scale_;
  std::vector<int64_t> tag_;
};

}  // namespace
}  // namespace subq::cpu
