// Flash attention on the CPU: the driver. Per (batch, head, query tile) it walks a list of
// key blocks with an online softmax; the math of each phase lives in the per-ISA kernels
// (attention_kernels.h). Dense attention's list is the visible key range cut into blocks;
// a block-sparse caller passes its own list to the same tile loop.
#include "attention.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "../core/cpu_features.h"
#include "../core/env_warnings.h"
#include "../core/half.h"
#include "../core/quant_params.h"
#include "../core/thread_pool.h"
#include "attention_bf16_kernels.h"
#include "attention_kernels.h"
#include "attention_mask.h"
#include "quant_kernels.h"
#include "vector_width.h"

namespace subq::cpu {

namespace {

// Keys per block of dense attention. The transposed-S kernels are insensitive to it
// from 48 to 384 (docs/cpu-kernels.md); a multiple of every micro-tile height keeps full
// blocks tail-free. Block-sparse calls use the mask's block (64 or 128: a multiple of 8 and
// 4, not of the ymm kernels' 6, which then run a short tail).
constexpr int64_t kBlockK = 192;
// K and V copied to fp32 are kept per thread up to this many bytes.
constexpr int64_t kCopyBudget = int64_t(32) << 20;

constexpr double kLog2e = 1.4426950408889634, kLn2 = 0.6931471805599453;

// ---- Scratch.
struct FreeDeleter {
  void operator()(float* f) const { std::free(f); }
};
using Floats = std::unique_ptr<float[], FreeDeleter>;

// Cache-line aligned, so full-vector loads of the tile buffers never split lines. The large
// K/V staging buffers go on 2 MiB pages where Linux allows it: each call allocates them
// afresh, and faulting in 4 KiB pages one by one cost 1-2.5% of a call.
constexpr size_t kHugePage = size_t(2) << 20;

Floats aligned_floats(int64_t n) {
  size_t bytes = (size_t(std::max<int64_t>(n, 1)) * sizeof(float) + 63) / 64 * 64;
  const bool huge = bytes >= kHugePage / 2;
  if (huge) bytes = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  float* f = static_cast<float*>(std::aligned_alloc(huge ? kHugePage : 64, bytes));
  if (!f) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  if (huge) madvise(f, bytes, MADV_HUGEPAGE);  // a hint: failure leaves 4 KiB pages
#endif
  return Floats(f);
}

// ---- Which kernels: cpu/vector_width.h decides zmm or ymm at the AVX-512 level.
// Block-sparse calls take tiles that divide their 64- or 128-row query blocks.
const AttentionKernels& pick_kernels(bool sparse) {
  switch (simd_level()) {
    case SimdLevel::AVX512:
      if (!use_zmm()) return attention_kernels_avx512_ymm();
      return sparse ? attention_kernels_avx512_zmm64() : attention_kernels_avx512_zmm();
    case SimdLevel::AVX2: return attention_kernels_avx2();
    default: return attention_kernels_scalar();
  }
}

// ---- bf16 inputs: Q.K^T and P.V on AVX512-BF16 (attention_bf16_kernels.h) where the CPU
// has it, the level is AVX-512 and SUBQ_BF16_DOT is not 0; else widened to fp32.
bool bf16_dot_setting() {
  static const bool on = [] {
    const char* env = std::getenv("SUBQ_BF16_DOT");
    if (!env || !std::strcmp(env, "1")) return true;
    if (!std::strcmp(env, "0")) return false;
    env_warning("SUBQ_BF16_DOT", env, "expected 0 or 1; using 1");
    return true;
  }();
  return on;
}

bool bf16_dot() { return cpu_features().avx512bf16 && simd_level() == SimdLevel::AVX512 && bf16_dot_setting(); }

// The bf16 set with the query tile of the fp32 set chosen for the call, or none.
const AttentionBf16Kernels* pick_bf16_kernels(const AttentionParams& p, const AttentionKernels& kern) {
  if (p.q.dtype != DType::BF16 || p.quant || !bf16_dot()) return nullptr;
  if (&kern == &attention_kernels_avx512_zmm()) return &attention_bf16_kernels_zmm();
  if (&kern == &attention_kernels_avx512_zmm64()) return &attention_bf16_kernels_zmm64();
  if (&kern == &attention_kernels_avx512_ymm()) return &attention_bf16_kernels_ymm();
  return nullptr;
}

// ---- Quantized calls (p.quant): the integer Q.K^T of the ISA, for tiles of tq lanes.
const QuantKernels& pick_quant_kernels(int64_t tq) {
  const SimdLevel level = simd_level();
  if (level == SimdLevel::AVX512 && cpu_features().avx512vnni && tq % 16 == 0) return quant_kernels_avx512_vnni();
  if (level != SimdLevel::Scalar && tq % 8 == 0) return quant_kernels_avx2();
  return quant_kernels_scalar();
}

// x rounded to fp16 or bf16 in place (quantizedAttention's pv type), through the SIMD
// converters a chunk at a time.
void round_to(DType t, float* x, int64_t n) {
  uint16_t h[512];
  for (int64_t i = 0; i < n; i += 512) {
    const int64_t c = std::min<int64_t>(512, n - i);
    f32_to_half(t, x + i, h, c);
    half_to_f32(t, h, x + i, c);
  }
}

// Bytes per staged int8 K row: the head dim in whole 4-channel groups, padded to an odd
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
  KvRows(const AttentionParams& p, const AttentionKernels& kern, int64_t bk, int64_t tiles_per_kv_head)
      : p_(p), kern_(kern), bk_(bk), quant_(p.quant), transpose_(tiles_per_kv_head >= 4),
        copy_(p.k.dtype != DType::F32 || transpose_ || quant_), ks_(padded_stride(p.D)),
        vs_(transpose_ ? padded_stride(bk) : padded_stride(p.Dv)), kqs_(padded_bytes(p.D)) {
    if (!copy_) return;
    const bool v_in_place = p.v.dtype == DType::F32 && !(quant_ && (quant_->v.present() || quant_->pv != DType::F32));
    if (transpose_ && !v_in_place) vrows_ = aligned_floats(bk_ * p.Dv);
    const int64_t nblocks = (p.Nk + bk_ - 1) / bk_;
    // Quantized: int8 K' rows (kqs_ bytes), a scale and a sum per key, instead of fp32 K.
    const int64_t k_floats = quant_ ? bk_ * (kqs_ / 4 + 2) : bk_ * ks_;
    const int64_t block_bytes = (k_floats + v_floats()) * int64_t(sizeof(float));
    slots_ = std::clamp<int64_t>(kCopyBudget / block_bytes, 1, std::max<int64_t>(nblocks, 1));
    k_ = aligned_floats(slots_ * k_floats);
    v_ = aligned_floats(slots_ * v_floats());
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
    float* kd = k_.get() + slot * (quant_ ? bk_ * (kqs_ / 4 + 2) : bk_ * ks_);
    float* vd = v_.get() + slot * v_floats();
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
      if (transpose_) {
        // fp32 rows in place, or converted into vrows_, then transposed.
        const float* v = p_.v.ptr<float>() + vb_ + j0 * vsrc;
        int64_t vs = vsrc;
        if (vrows_) {
          for (int64_t r = 0; r < nk; ++r) {
            float* vr = vrows_.get() + r * p_.Dv;
            const float* src = v_row(j0 + r, vr);
            if (src != vr) std::copy_n(src, p_.Dv, vr);
          }
          v = vrows_.get();
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
      tag_[size_t(slot)] = blk;
    }
    if (quant_) return {nullptr, 0, vd, vs_, transpose_, kq, kqs_, kscale, ksum};
    return {kd, ks_, vd, vs_, transpose_};
  }

 private:
  // Floats of V per block: V^T rows of a block's keys, or a block's V rows.
  int64_t v_floats() const { return transpose_ ? p_.Dv * vs_ : bk_ * vs_; }

  // Quantized calls: keys [j0, j0 + nk) of K' as zero-padded int8 rows, their scales and
  // value sums.
  void stage_quant_k(int64_t j0, int64_t nk, int8_t* kq, float* kscale, int32_t* ksum) const {
    const QuantView& k = quant_->k;
    for (int64_t r = 0; r < nk; ++r) {
      const uint8_t* src = k.row(b_, hk_, j0 + r);
      int8_t* dst = kq + r * kqs_;
      int32_t sum = 0;
      for (int64_t x = 0; x < p_.D; ++x) sum += dst[x] = int8_t(quant_value(src, k.bits, x));
      std::fill(dst + p_.D, dst + (p_.D + 3) / 4 * 4, int8_t(0));
      kscale[r] = k.scale(b_, hk_, j0 + r);
      ksum[r] = sum;
    }
  }

  // Value row j of the current head in fp32: in place, or written to buf (converted,
  // dequantized, or rounded to a quantized call's pv type).
  const float* v_row(int64_t j, float* buf) const {
    const float* v;
    if (quant_ && quant_->v.present()) {
      const QuantView& qv = quant_->v;
      for (int64_t x = 0; x < p_.Dv; ++x) buf[x] = float(quant_value(qv.row(b_, hk_, j), qv.bits, x)) * qv.scale(b_, hk_, j);
      v = buf;
    } else {
      v = row_f32(p_.v, vb_ + j * p_.v.stride[2], p_.Dv, buf);
    }
    if (quant_ && quant_->pv != DType::F32) {
      if (v != buf) std::copy_n(v, p_.Dv, buf);
      round_to(quant_->pv, buf, p_.Dv);
      v = buf;
    }
    return v;
  }

  // Row `off` of t in fp32: in place, or converted into buf.
  static const float* row_f32(const TensorView& t, int64_t off, int64_t n, float* buf) {
    if (t.dtype == DType::F32) return t.ptr<float>() + off;
    half_to_f32(t.dtype, t.ptr<uint16_t>() + off, buf, n);
    return buf;
  }

  const AttentionParams& p_;
  const AttentionKernels& kern_;
  const int64_t bk_;
  const QuantQK* quant_;
  bool transpose_, copy_;
  int64_t ks_, vs_, kqs_, slots_ = 0, b_ = -1, hk_ = -1, kb_ = 0, vb_ = 0;
  Floats k_, v_, vrows_;
  std::vector<int64_t> tag_;
};

// The bf16 path's staging: K is read in place, V staged per key block as V^T in pairs of
// keys (attention_bf16_kernels.h), padded rows, once per thread and (batch, kv head) and
// kept like KvRows' copies: the whole head when it fits kCopyBudget, else a ring.
class VtPairs {
 public:
  VtPairs(const AttentionParams& p, const AttentionBf16Kernels& kern, int64_t bk)
      : p_(p), kern_(kern), bk_(bk), vts_(padded_stride((bk + 1) / 2)), pairs_(aligned_floats((bk + 1) / 2 * p.Dv)) {
    const int64_t nblocks = (p.Nk + bk_ - 1) / bk_;
    const int64_t block_bytes = p.Dv * vts_ * int64_t(sizeof(uint32_t));
    slots_ = std::clamp<int64_t>(kCopyBudget / block_bytes, 1, std::max<int64_t>(nblocks, 1));
    vt_ = aligned_floats(slots_ * p.Dv * vts_);
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
    uint32_t* vt = reinterpret_cast<uint32_t*>(vt_.get()) + slot * p_.Dv * vts_;
    if (tag_[size_t(slot)] != blk) {
      const int64_t j0 = blk * bk_, nk = std::min(bk_, p_.Nk - j0), n2 = (nk + 1) / 2, vs = p_.v.stride[2];
      const uint16_t* v = p_.v.ptr<uint16_t>() + vb_ + j0 * vs;
      uint32_t* pairs = reinterpret_cast<uint32_t*>(pairs_.get());
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
  Floats pairs_, vt_;  // a block's key pairs in rows; the staged V^T pairs
  std::vector<int64_t> tag_;
};

// ---- Rows of Q and O. The g = Hq / Hkv query heads that share a kv head are packed
// row by row: packed row `lane` of kv head (b, hk) is query row lane / g of head
// hk * g + lane % g (see TileRunner).
int64_t packed_row_offset(const TensorView& t, int64_t g, int64_t b, int64_t hk, int64_t lane) {
  return b * t.stride[0] + (hk * g + lane % g) * t.stride[1] + (lane / g) * t.stride[2];
}

// Scores come out in base 2 (exp2 is cheaper than exp): log2(e) and the scale are folded
// into Q. With a softcap, Q carries scale / cap and tanh's output is scaled.
double q_scale(const AttentionParams& p) { return p.softcap > 0 ? double(p.scale) / p.softcap : p.scale * kLog2e; }
// The softcap in those base-2 units: tanh's output scale (0 without a softcap).
float softcap_log2(const AttentionParams& p) { return float(double(p.softcap) * kLog2e); }

// Packed row `lane` of Q times q_scale, in fp32 (scaled in double).
void load_q_row(const AttentionParams& p, int64_t g, int64_t b, int64_t hk, int64_t lane, float* dst) {
  const TensorView& q = p.q;
  const int64_t off = packed_row_offset(q, g, b, hk, lane);
  const float* src = q.dtype == DType::F32 ? q.ptr<float>() + off : dst;
  if (q.dtype != DType::F32) half_to_f32(q.dtype, q.ptr<uint16_t>() + off, dst, p.D);
  const double sc = q_scale(p);
  for (int64_t x = 0; x < p.D; ++x) dst[x] = float(src[x] * sc);
}

// Writes packed row `lane` of the output, o / l (0 where no key is visible), from the
// unnormalised row o (overwritten) and the softmax state m (base-2 units), l; and its LSE.
void store_row(const AttentionParams& p, int64_t g, int64_t b, int64_t hk, int64_t lane, float* o, float m, float l) {
  const TensorView& out = p.out;
  const float inv = l > 0 ? 1.f / l : 0.f;
  const int64_t off = packed_row_offset(out, g, b, hk, lane);
  float* dst = out.dtype == DType::F32 ? out.ptr<float>() + off : o;
  for (int64_t x = 0; x < p.Dv; ++x) dst[x] = o[x] * inv;
  if (out.dtype != DType::F32) f32_to_half(out.dtype, o, out.ptr<uint16_t>() + off, p.Dv);
  if (p.lse.data) {
    // sum_j e^{s_j} = 2^m * l, m in base-2 units.
    // l = 0: no key seen (-inf); a NaN score makes l NaN, and so the LSE, so that a
    // merge cannot mistake the row for an empty one.
    const float lse = l == 0 ? -std::numeric_limits<float>::infinity() : float((double(m) + std::log2(double(l))) * kLn2);
    p.lse.ptr<float>()[packed_row_offset(p.lse, g, b, hk, lane)] = lse;
  }
}

// ---- Query tiles.
// A row group is the set of query rows a tile packs into its lanes, row by row. Dense
// attention packs the g = Hq / Hkv query heads that share a kv head: packed row i * g + x
// is query row i of head hk * g + x, so decode (Nq = 1) with GQA fills g lanes instead of
// one and a tile spans fewer rows (tighter causal edges). A block-sparse call whose heads
// of a group read different blocks packs one head per group instead (g = 1).
//
// Up to kGroup tiles of one kv head run together, in lock step over their block lists
// (step i runs block i of each list): a K/V block is then read from L2 by the tiles of
// the group instead of from memory by each tile, as a whole head of K and V does not
// fit L2 at long lengths. Each tile still sees exactly its own list, in order, so the
// grouping never changes a result.
constexpr int kGroup = 8;

struct TileRef {
  int64_t rg;     // row group: kv head (packed heads) or query head (one head per group)
  int64_t lane0;  // first packed row
  int64_t lanes;  // packed rows, at most tile_q
};

class TileRunner {
 public:
  // bf16: the bf16 matrix phases (K read in place, V staged by VtPairs), or null (fp32
  // phases, K and V staged by KvRows; quantized calls stage integer K rows there too).
  TileRunner(const AttentionParams& p, const AttentionKernels& kern, const AttentionBf16Kernels* bf16, int64_t g,
             int64_t bk, int64_t tiles_per_kv_head)
      : p_(p), kern_(kern), bf16_(bf16), qkern_(pick_quant_kernels(kern.tile_q)), tq_(kern.tile_q), g_(g), bk_(bk),
        s_(aligned_floats(bk * tq_)), rows_(aligned_floats(tq_ * std::max(p.D, p.Dv))) {
    if (bf16_) {
      vt2_.emplace(p, *bf16_, bk);
      p2_ = aligned_floats((bk + 1) / 2 * tq_);
    } else {
      kv_.emplace(p, kern, bk, tiles_per_kv_head);
    }
    // A group holds tiles of one kv head, so at most that many.
    for (int64_t i = 0; i < std::min<int64_t>(kGroup, tiles_per_kv_head); ++i) {
      Tile& t = tiles_[i];
      // Quantized: qt holds int8 Q' in 4-channel groups (quant_kernels.h), d4 * tq * 4 bytes.
      t.qt = aligned_floats(p.quant ? (p.D + 3) / 4 * tq_ : p.D * tq_);
      if (p.quant) {
        t.qscale = aligned_floats(tq_);
        t.bias = aligned_floats(tq_);
        t.qm_k.assign(size_t(tq_), 0);
      }
      t.ot = aligned_floats(p.Dv * tq_);
      t.m = aligned_floats(tq_);
      t.l = aligned_floats(tq_);
      t.alpha = aligned_floats(tq_);
    }
  }

  // Runs tiles ref[t] (t < n <= kGroup) of batch b, all reading kv head hk, each over
  // its list blocks[t].
  void run(int64_t b, int64_t hk, const TileRef* ref, int n, const std::vector<KeyBlock>* blocks) {
    if (bf16_) {
      vt2_->select(b, hk);
      kb_ = b * p_.k.stride[0] + hk * p_.k.stride[1];
    } else {
      kv_->select(b, hk);
    }
    size_t steps = 0;
    for (int t = 0; t < n; ++t) {
      Tile& tile = tiles_[t];
      tile.ref = ref[t];
      if (bf16_) load_q_bf16(b, tile);
      else if (p_.quant) load_q_quant(b, tile);
      else load_q(b, tile);
      std::fill(tile.m.get(), tile.m.get() + tq_, kInitMax);
      std::fill(tile.l.get(), tile.l.get() + tq_, 0.f);
      std::fill(tile.ot.get(), tile.ot.get() + p_.Dv * tq_, 0.f);
      // Keys outside the tile's band are hidden whatever the list says: trimming blocks
      // to it skips most of the masked part of diagonal blocks.
      attention_key_range(p_, tile.ref.lane0 / g_, (tile.ref.lane0 + tile.ref.lanes - 1) / g_ + 1, &tile.lo, &tile.hi);
      steps = std::max(steps, blocks[t].size());
    }
    for (size_t i = 0; i < steps; ++i)
      for (int t = 0; t < n; ++t)
        if (i < blocks[t].size()) step(tiles_[t], blocks[t][i]);
    for (int t = 0; t < n; ++t) store(b, tiles_[t]);
  }

 private:
  struct Tile {
    Floats qt, ot, m, l, alpha;
    Floats qscale, bias;         // quantized: per lane, Q' scale x unit and unit * q.km
    std::vector<int64_t> qm_k;   // quantized with smoothQ: each lane's row of QuantQK::qm_k
    TileRef ref{};
    int64_t lo = 0, hi = 0;
  };

  void step(Tile& t, const KeyBlock& kb) {
    const int64_t j0 = std::max(kb.index * bk_, t.lo), j1 = std::min((kb.index + 1) * bk_, t.hi);
    if (j0 >= j1) return;
    if (bf16_) return step_bf16(t, kb, j0, j1);
    const int64_t nk = j1 - j0;
    const KvBlock kv = kv_->block(kb.index);
    const int64_t skip = j0 - kb.index * bk_;  // keys trimmed off the block's start
    float* s = s_.get();
    if (p_.quant) qk_quant(t, kv, skip, j0, nk, s);
    else kern_.qk(t.qt.get(), p_.D, kv.k + skip * kv.ks, kv.ks, nk, s);
    scores_to_p(t, j0, nk, kb.masked);
    // P rounded to the pv type; V was rounded when staged. The fp32 P.V of the rounded
    // operands is exactly the rounding semantics (the bf16 phases' P.V could serve pv bf16).
    if (p_.quant && p_.quant->pv != DType::F32) round_to(p_.quant->pv, s, nk * tq_);
    if (kv.transposed) kern_.pv(s, nk, kv.v + skip, kv.vs, p_.Dv, t.ot.get(), t.alpha.get());
    else kern_.pv_rows(s, nk, kv.v + skip * kv.vs, kv.vs, p_.Dv, t.ot.get(), t.alpha.get());
  }

  // S^T of keys j0 .. j0+nk-1 in s_ (base-2 units) to P^T, and the tile's softmax state on.
  void scores_to_p(Tile& t, int64_t j0, int64_t nk, bool masked) {
    float* s = s_.get();
    if (p_.softcap > 0) kern_.softcap(s, nk * tq_, softcap_);
    if (masked) mask_block(p_, g_, t.ref.lane0, j0, nk, tq_, s);
    kern_.softmax(s, nk, t.m.get(), t.l.get(), t.alpha.get());
  }

  // The bf16 step: keys [j0, j1) of block kb. Pairs of keys run from the block's start, so
  // a range starting or ending at an odd key takes that key too: it lies outside the
  // tile's band [lo, hi), hidden from every row, and the mask hides it.
  void step_bf16(Tile& t, const KeyBlock& kb, int64_t j0, int64_t j1) {
    const int64_t b0 = kb.index * bk_, end = std::min(b0 + bk_, p_.Nk);
    const int64_t e0 = b0 + (j0 - b0) / 2 * 2, e1 = std::min(b0 + (j1 - b0 + 1) / 2 * 2, end), nk = e1 - e0;
    const int64_t ks = p_.k.stride[2];
    const uint16_t* k = p_.k.ptr<uint16_t>() + kb_ + e0 * ks;
    float* s = s_.get();
    uint32_t* p2 = reinterpret_cast<uint32_t*>(p2_.get());
    bf16_->qk(reinterpret_cast<const uint32_t*>(t.qt.get()), p_.D, k, ks, nk, qscale_, s);
    scores_to_p(t, e0, nk, kb.masked || e0 != j0 || e1 != j1);
    bf16_->round_p(s, nk, p2);
    const uint32_t* vt2 = vt2_->block(kb.index) + (e0 - b0) / 2;
    bf16_->pv(p2, nk, vt2, vt2_->stride(), p_.Dv, t.ot.get(), t.alpha.get());
  }

  // Q^T of the tile in bf16 pairs, unscaled (qk applies the scale): rows of pairs into
  // rows_, an odd head dim padded with 0, then transposed.
  void load_q_bf16(int64_t b, Tile& t) {
    const int64_t d2 = (p_.D + 1) / 2;
    uint32_t* qt2 = reinterpret_cast<uint32_t*>(t.qt.get());
    uint32_t* rows = reinterpret_cast<uint32_t*>(rows_.get());
    if (t.ref.lanes < tq_) std::fill(qt2, qt2 + d2 * tq_, 0u);
    for (int64_t r = 0; r < t.ref.lanes; ++r) {
      const uint16_t* q = p_.q.ptr<uint16_t>() + packed_row_offset(p_.q, g_, b, t.ref.rg, t.ref.lane0 + r);
      uint32_t* row = rows + r * d2;
      row[d2 - 1] = 0;  // the pad of an odd head dim (little-endian: the upper half)
      std::memcpy(row, q, size_t(p_.D) * sizeof(uint16_t));
    }
    bf16_->transpose(rows, d2, t.ref.lanes, d2, qt2, tq_);
  }

  // Q^T of the tile, scaled: rows into rows_, then transposed.
  void load_q(int64_t b, Tile& t) {
    float* qt = t.qt.get();
    if (t.ref.lanes < tq_) std::fill(qt, qt + p_.D * tq_, 0.f);
    for (int64_t r = 0; r < t.ref.lanes; ++r) load_q_row(p_, g_, b, t.ref.rg, t.ref.lane0 + r, rows_.get() + r * p_.D);
    kern_.transpose(rows_.get(), p_.D, t.ref.lanes, p_.D, qt, tq_);
  }

  // Quantized: scores of keys [j0, j0 + nk) from the integer Q.K^T, plus smoothQ's
  // qm . K' term per lane.
  void qk_quant(const Tile& t, const KvBlock& kv, int64_t skip, int64_t j0, int64_t nk, float* s) const {
    const QkInt a{reinterpret_cast<const int8_t*>(t.qt.get()), (p_.D + 3) / 4, int(tq_), kv.kq + skip * kv.kqs,
                  kv.kqs, nk, kv.ksum + skip, kv.kscale + skip, t.qscale.get(), t.bias.get(), s};
    qkern_.qk(a);
    const float* qm_k = p_.quant->qm_k;
    if (!qm_k) return;
    if (g_ == 1) {
      // One head per tile: one term per key, added to every lane (unused lanes are never
      // stored) in a loop the compiler vectorises.
      const float* row = qm_k + t.qm_k[0] + j0;
      for (int64_t j = 0; j < nk; ++j)
        for (int64_t r = 0; r < tq_; ++r) s[j * tq_ + r] += row[j];
      return;
    }
    for (int64_t j = 0; j < nk; ++j)
      for (int64_t r = 0; r < t.ref.lanes; ++r) s[j * tq_ + r] += qm_k[t.qm_k[size_t(r)] + j0 + j];
  }

  // Q'^T of the tile in int8 4-channel groups, each lane's scale (times the scores'
  // unit) and bias; unused lanes and channels are 0.
  void load_q_quant(int64_t b, Tile& t) {
    const QuantQK& qq = *p_.quant;
    const QuantView& qv = qq.q;
    int8_t* qt = reinterpret_cast<int8_t*>(t.qt.get());
    std::fill(qt, qt + (p_.D + 3) / 4 * 4 * tq_, int8_t(0));
    std::fill(t.qscale.get(), t.qscale.get() + tq_, 0.f);
    std::fill(t.bias.get(), t.bias.get() + tq_, 0.f);
    const double unit = q_scale(p_);
    for (int64_t r = 0; r < t.ref.lanes; ++r) {
      const int64_t lane = t.ref.lane0 + r, h = t.ref.rg * g_ + lane % g_, n = lane / g_;
      const uint8_t* row = qv.row(b, h, n);
      for (int64_t x = 0; x < p_.D; ++x) qt[((x / 4) * tq_ + r) * 4 + x % 4] = int8_t(quant_value(row, qv.bits, x));
      t.qscale[r] = float(double(qv.scale(b, h, n)) * unit);
      const int64_t row_index = (b * p_.Hq + h) * p_.Nq + n;
      if (qq.q_bias) t.bias[r] = qq.q_bias[row_index];
      t.qm_k[size_t(r)] = (b * p_.Hq + h) * p_.Nk;
    }
  }

  // O = O^T transposed, over l.
  void store(int64_t b, const Tile& t) {
    kern_.transpose(t.ot.get(), tq_, p_.Dv, t.ref.lanes, rows_.get(), p_.Dv);
    for (int64_t r = 0; r < t.ref.lanes; ++r)
      store_row(p_, g_, b, t.ref.rg, t.ref.lane0 + r, rows_.get() + r * p_.Dv, t.m[r], t.l[r]);
  }

  const AttentionParams& p_;
  const AttentionKernels& kern_;
  const AttentionBf16Kernels* bf16_;
  const QuantKernels& qkern_;
  const int64_t tq_, g_, bk_;
  std::optional<KvRows> kv_;    // fp32 phases
  std::optional<VtPairs> vt2_;  // bf16 phases
  int64_t kb_ = 0;              // bf16: offset of the kv head's K
  Tile tiles_[kGroup];
  Floats s_, rows_, p2_;  // S^T / P^T of a block; rows of Q or O being (un)staged; P^T bf16 pairs
  const float softcap_ = softcap_log2(p_);
  const float qscale_ = float(q_scale(p_));  // bf16: Q^T is staged unscaled
};

// How a call is cut into tiles, and each tile's key-block list. Dense tiles cut each row
// group's packed rows evenly (the same tiles for every group). Block-sparse tiles never
// straddle two query blocks that read different key blocks, so that a tile's list is its
// query blocks' list; consecutive query blocks with equal lists (an all-ones mask, dense
// heads) share tiles, as 64 or 128 rows are not whole tiles.
class TilePlan {
 public:
  TilePlan(const AttentionParams& p, int64_t tq) : p_(p), G_(p.Hq / p.Hkv), tq_(tq) {
    const BlockMask& m = p.mask;
    sparse_ = m.active();
    bk_ = sparse_ ? m.block : kBlockK;
    g_ = sparse_ && !group_shares_blocks() ? 1 : G_;
    groups_ = g_ == 1 ? p.Hq : p.Hkv;
    if (!sparse_) {
      tile_rows(0, p.Nq, 0, [&](const Item& it) { tiles_.push_back(it); });
      return;
    }
    std::vector<int64_t> cur, next;
    for (int64_t b = 0; b < p.B; ++b)
      for (int64_t rg = 0; rg < groups_; ++rg) {
        list(b, rg, 0, &cur);
        for (int64_t q0 = 0, q1; q0 < m.nqb; q0 = q1) {
          for (q1 = q0 + 1; q1 < m.nqb; ++q1) {
            list(b, rg, q1, &next);
            if (next != cur) break;
          }
          tile_rows(q0 * m.block, std::min(q1 * m.block, p.Nq), q0, [&](Item it) {
            it.b = b, it.ref.rg = rg;
            items_.push_back(it);
          });
          if (q1 < m.nqb) cur.swap(next);
        }
      }
    // Items of one (batch, kv head) are adjacent: the longest run sizes a runner's tiles.
    for (size_t w = 0, run = 0; w < items_.size(); ++w) {
      run = w && items_[w].b == items_[w - 1].b && kv_head(items_[w]) == kv_head(items_[w - 1]) ? run + 1 : 1;
      max_kv_tiles_ = std::max(max_kv_tiles_, int64_t(run));
    }
  }

  int64_t g() const { return g_; }
  int64_t bk() const { return bk_; }
  // Work items in (batch, kv head, row group, tile) order, so the tiles of a kv head are
  // adjacent.
  int64_t items() const { return sparse_ ? int64_t(items_.size()) : p_.B * groups_ * int64_t(tiles_.size()); }
  // Tiles of one kv head at most: a packed group's, or those of the G heads that share it.
  int64_t tiles_per_kv_head() const { return sparse_ ? max_kv_tiles_ : int64_t(tiles_.size()) * (G_ / g_); }

  struct Item {
    int64_t b = 0;
    TileRef ref{};
    int64_t qb = 0;  // block-sparse: the query block whose list the tile reads
  };
  Item item(int64_t w) const {
    if (sparse_) return items_[size_t(w)];
    const int64_t n = int64_t(tiles_.size());
    Item it = tiles_[size_t(w % n)];
    it.b = w / n / groups_;
    it.ref.rg = w / n % groups_;
    return it;
  }
  int64_t kv_head(const Item& it) const { return g_ == G_ ? it.ref.rg : it.ref.rg / G_; }

  // The cost of an item for the thread split: its key blocks, + 1 for the tile itself.
  int64_t cost(int64_t w, std::vector<KeyBlock>* scratch) const {
    key_blocks(item(w), scratch);
    return 1 + int64_t(scratch->size());
  }

  void key_blocks(const Item& it, std::vector<KeyBlock>* out) const {
    const int64_t i0 = it.ref.lane0 / g_, i1 = (it.ref.lane0 + it.ref.lanes - 1) / g_ + 1;
    if (!sparse_) return dense_key_blocks(p_, bk_, i0, i1, out);
    // A packed group reads the blocks of its first head (all of the group's heads agree).
    listed_key_blocks(p_, it.b, it.ref.rg * g_, it.qb, i0, i1, out);
  }

 private:
  // Tiles of tq_ packed rows over query rows [r0, r1) of a row group.
  template <class F>
  void tile_rows(int64_t r0, int64_t r1, int64_t qb, F&& f) const {
    const int64_t lanes = (r1 - r0) * g_;
    for (int64_t l = 0; l < lanes; l += tq_) f(Item{0, {0, r0 * g_ + l, std::min(tq_, lanes - l)}, qb});
  }

  // The key blocks query block qb of row group rg reads (its first head's).
  void list(int64_t b, int64_t rg, int64_t qb, std::vector<int64_t>* out) const {
    out->clear();
    for_each_listed_block(p_, b, rg * g_, qb, [&](int64_t kb) { out->push_back(kb); });
  }

  // Whether the heads that share a kv head read the same blocks, so they can share tiles.
  bool group_shares_blocks() const {
    const BlockMask& m = p_.mask;
    if (m.Hm == p_.Hq && G_ > 1) return false;
    if (!m.head_modes.data) return true;
    for (int64_t h = 0; h < p_.Hq; ++h)
      if (head_mode(m, h) != head_mode(m, h - h % G_)) return false;
    return true;
  }

  const AttentionParams& p_;
  const int64_t G_, tq_;
  bool sparse_ = false;
  int64_t bk_ = kBlockK, g_ = 1, groups_ = 0, max_kv_tiles_ = 0;
  std::vector<Item> tiles_;  // dense: one row group's tiles
  std::vector<Item> items_;  // block-sparse: every item
};

// ---- Decode: at most kDecodeRows packed rows per kv head (see attention_decode.h).
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
    const int64_t off = b * p.v.stride[0] + hk * p.v.stride[1] + j * p.v.stride[2];
    if (p.v.dtype == DType::F32) std::copy_n(p.v.ptr<float>() + off, p.Dv, v);
    else half_to_f32(p.v.dtype, p.v.ptr<uint16_t>() + off, v, p.Dv);
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

void decode_attention(const AttentionParams& p, const AttentionKernels& kern) {
  const QuantKernels& qkern = pick_quant_kernels(kern.tile_q);
  // K' and V' quantized, P.V in fp32: the integer kernel reads both caches in place.
  const bool int_path = p.quant && p.quant->v.present() && p.quant->pv == DType::F32;
  const int64_t g = p.Hq / p.Hkv, rows = g * p.Nq, heads = p.B * p.Hkv, D = p.D, Dv = p.Dv;
  int64_t lo[kDecodeRows], hi[kDecodeRows], first = p.Nk, last = 0;
  for (int64_t r = 0; r < rows; ++r) {
    attention_key_range(p, r / g, r / g + 1, &lo[r], &hi[r]);
    if (lo[r] < hi[r]) first = std::min(first, lo[r]), last = std::max(last, hi[r]);
  }
  const int64_t span = std::max<int64_t>(last - first, 0);
  const int64_t want = std::clamp<int64_t>(kDecodeItems / heads, 1, std::max<int64_t>(span / kDecodeMinRange, 1));
  const int64_t len = (span + want - 1) / want, ranges = len ? (span + len - 1) / len : 1;
  // Per (head, range): for each row, m, l and o [Dv].
  const int64_t row_floats = Dv + 2, item_floats = rows * row_floats, items = heads * ranges;
  Floats state = aligned_floats(items * item_floats);
  const int64_t esize = int64_t(dtype_size(p.k.dtype));

  ThreadPool::instance().run([&](int t, int n) {
    const int64_t i0 = items * t / n, i1 = items * (t + 1) / n;
    if (i0 >= i1) return;
    Floats q = aligned_floats(rows * D), m = aligned_floats(rows), l = aligned_floats(rows);
    // Quantized caches the integer kernel does not take are dequantized kQuantDecodeRows
    // rows at a time into fp32 rows.
    const bool dequant = p.quant && !int_path;
    Floats kc = aligned_floats(dequant ? kQuantDecodeRows * D : 0), vc = aligned_floats(dequant ? kQuantDecodeRows * Dv : 0);
    const int64_t dq = (D + 63) / 64 * 64;
    std::vector<int8_t> qi(static_cast<size_t>(int_path ? rows * dq : 0));
    int32_t qsum[kDecodeRows];
    float qs[kDecodeRows];
    const float* qm[kDecodeRows];
    for (int64_t it = i0; it < i1; ++it) {
      check_cancelled();
      const int64_t h = it / ranges, b = h / p.Hkv, hk = h % p.Hkv;
      const int64_t j0 = first + (it % ranges) * len, j1 = std::min(j0 + len, first + span);
      float* st = state.get() + it * item_floats;
      float* o = st + 2 * rows;  // rows x Dv; m and l are the first 2 * rows floats
      std::fill(m.get(), m.get() + rows, kInitMax);
      std::fill(l.get(), l.get() + rows, 0.f);
      std::fill(o, o + rows * Dv, 0.f);
      if (int_path) {
        const QuantQK& qq = *p.quant;
        for (int64_t r = 0; r < rows; ++r) load_q_row_int(p, g, b, hk, r, dq, qi.data() + r * dq, &qsum[r], &qs[r], &qm[r]);
        const float* ksc = static_cast<const float*>(qq.k.scales.data) + (b * p.Hkv + hk) * qq.k.groups();
        const float* vsc = static_cast<const float*>(qq.v.scales.data) + (b * p.Hkv + hk) * qq.v.groups();
        const QDecode qd{qi.data(), qsum, qs, qq.qm_k ? qm : nullptr, int(rows), D, dq, Dv, qq.k.row(b, hk, 0),
                         qq.v.row(b, hk, 0), qq.k.row_bytes(), qq.v.row_bytes(), qq.k.bits, qq.v.bits, ksc, vsc,
                         qq.k.group, qq.v.group, j0, j1 - j0, lo, hi, softcap_log2(p), kern.softcap, m.get(), l.get(), o};
        if (j1 > j0) qkern.decode(qd);
        std::copy_n(m.get(), rows, st);
        std::copy_n(l.get(), rows, st + rows);
        continue;
      }
      for (int64_t r = 0; r < rows; ++r) {
        if (p.quant) load_q_row_quant(p, g, b, hk, r, q.get() + r * D);
        else load_q_row(p, g, b, hk, r, q.get() + r * D);
      }
      const int64_t kb = b * p.k.stride[0] + hk * p.k.stride[1], vb = b * p.v.stride[0] + hk * p.v.stride[1];
      const int64_t ks = p.k.stride[2], vs = p.v.stride[2];
      if (p.quant) {
        // The int8/int4 cache read as it is, a chunk of rows dequantized at a time.
        DecodeRange dr{q.get(), int(rows), D, Dv, DType::F32, kc.get(), vc.get(), D, Dv, 0, 0, lo, hi,
                       softcap_log2(p), kern.softcap, m.get(), l.get(), o};
        for (int64_t j = j0; j < j1; j += kQuantDecodeRows) {
          dr.j0 = j;
          dr.nk = std::min(kQuantDecodeRows, j1 - j);
          for (int64_t x = 0; x < dr.nk; ++x) dequant_kv_row(p, qkern, b, hk, j + x, kc.get() + x * D, vc.get() + x * Dv);
          kern.decode(dr);
        }
      } else if (j1 > j0) {
        const DecodeRange dr{q.get(), int(rows), D, Dv, p.k.dtype,
                             static_cast<const char*>(p.k.data) + (kb + j0 * ks) * esize,
                             static_cast<const char*>(p.v.data) + (vb + j0 * vs) * esize,
                             ks, vs, j0, j1 - j0, lo, hi, softcap_log2(p), kern.softcap, m.get(), l.get(), o};
        kern.decode(dr);
      }
      std::copy_n(m.get(), rows, st);
      std::copy_n(l.get(), rows, st + rows);
    }
  });

  // Merge each row's ranges in order: m = max m_c, l = sum l_c 2^(m_c - m), likewise o.
  ThreadPool::instance().run([&](int t, int n) {
    std::vector<float> o(static_cast<size_t>(Dv));
    for (int64_t h = heads * t / n; h < heads * (t + 1) / n; ++h)
      for (int64_t r = 0; r < rows; ++r) {
        float mx = kInitMax;
        for (int64_t c = 0; c < ranges; ++c) mx = std::max(mx, state[(h * ranges + c) * item_floats + r]);
        double sum = 0;
        std::fill(o.begin(), o.end(), 0.f);
        for (int64_t c = 0; c < ranges; ++c) {
          const float* st = state.get() + (h * ranges + c) * item_floats;
          const float w = float(std::exp2(double(st[r]) - mx));
          sum += double(st[rows + r]) * w;
          for (int64_t x = 0; x < Dv; ++x) o[size_t(x)] += st[2 * rows + r * Dv + x] * w;
        }
        // A quantized call's q . km shifts the LSE only (decode runs without a softcap then).
        const float bias = p.quant && p.quant->q_bias ? p.quant->q_bias[quant_row(p, g, h / p.Hkv, h % p.Hkv, r)] : 0.f;
        store_row(p, g, h / p.Hkv, h % p.Hkv, r, o.data(), mx + bias, float(sum));
      }
  });
}

}  // namespace

const char* attention_bf16_path() { return bf16_dot() ? "avx512-bf16" : "fp32-widen"; }
double score_unit(const AttentionParams& p) { return q_scale(p); }

void attention(const AttentionParams& p) {
  if (p.B == 0 || p.Hq == 0 || p.Nq == 0) return;
  const AttentionKernels& kern = pick_kernels(p.mask.active());
  // Quantized decode adds q . km to the LSE alone, which a softcap would not allow.
  const bool shifted_cap = p.quant && p.quant->q_bias && p.softcap > 0;
  if (!p.mask.active() && p.Hq / p.Hkv * p.Nq <= kDecodeRows && !shifted_cap) return decode_attention(p, kern);
  const AttentionBf16Kernels* bf16 = pick_bf16_kernels(p, kern);
  const TilePlan plan(p, kern.tile_q);
  // Static split by cost (key blocks + 1 per tile), in item order: each thread gets a
  // contiguous run (kv heads stay warm), balanced under causal and block masks. The tiles
  // do not depend on the thread count, so neither does the result.
  const int64_t items = plan.items();
  std::vector<int64_t> prefix(size_t(items) + 1, 0);
  {
    std::vector<KeyBlock> scratch;
    for (int64_t w = 0; w < items; ++w) prefix[size_t(w) + 1] = prefix[size_t(w)] + plan.cost(w, &scratch);
  }
  const int64_t total = prefix[size_t(items)];
  ThreadPool::instance().run([&](int t, int n) {
    TileRunner runner(p, kern, bf16, plan.g(), plan.bk(), plan.tiles_per_kv_head());
    std::vector<KeyBlock> blocks[kGroup];
    TileRef ref[kGroup];
    int group = 0;
    int64_t group_b = -1, group_hk = -1;
    auto flush = [&] {
      check_cancelled();
      if (group) runner.run(group_b, group_hk, ref, group, blocks);
      group = 0;
    };
    for (int64_t w = 0; w < items; ++w) {
      // Owner: the thread whose share holds the item's cost midpoint.
      const int64_t mid2 = prefix[size_t(w)] + prefix[size_t(w) + 1];
      if (mid2 * n / (2 * total) != t) continue;
      const TilePlan::Item it = plan.item(w);
      const int64_t hk = plan.kv_head(it);
      if (it.b != group_b || hk != group_hk || group == kGroup) flush();
      group_b = it.b, group_hk = hk;
      plan.key_blocks(it, &blocks[group]);
      ref[group++] = it.ref;
    }
    flush();
  });
}

}  // namespace subq::cpu
