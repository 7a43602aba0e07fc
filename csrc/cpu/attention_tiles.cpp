// The attention tile driver: per (batch, head, query tile) a walk over the tile's list of
// key blocks with an online softmax, the math of each phase in the per-ISA kernels
// (attention_kernels.h, attention_bf16_kernels.h, quant_kernels.h). Dense attention's list
// is the visible key range cut into blocks; a block-sparse caller's list comes from its mask
// (attention_plan.h).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "../core/cancel.h"
#include "../core/quant_params.h"
#include "../core/thread_pool.h"
#include "attention_driver.h"
#include "attention_mask.h"
#include "attention_plan.h"
#include "attention_rows.h"
#include "attention_staging.h"
#include "quant_kernels.h"
#include "rows.h"

namespace subq::cpu {

namespace {

// ---- Query tiles.
// A row group is the set of query rows a tile packs into its lanes, row by row. Dense
// attention packs the g = Hq / Hkv query heads that share a kv head: packed row i * g + x
// is query row i of head hk * g + x, so decode (Nq = 1) with GQA fills g lanes instead of
// one and a tile spans fewer rows (tighter causal edges). A block-sparse call whose heads
// of a group read different blocks packs one head per group instead (g = 1).
//
// Tiles of one kv head run together as a group, key-block major: the group walks the
// union of its tiles' lists in ascending order and, for each key block, runs every tile
// that lists it, so the block is read from L2 by those tiles instead of from L3 or memory
// by each (a whole head of K and V does not fit L2 at long lengths). Each list is
// strictly ascending, so each tile still sees exactly its own list, in order, and the
// grouping never changes a result. Dense tiles share all their blocks: kGroup of them
// suffice. A block-sparse tile shares a given block with few others (a random 10% mask:
// a tenth of the group), so its groups are larger, kSparseGroup tiles, whose states stay
// in L2 or L3 while the group streams the union of its lists once, in address order
// (docs/cpu-kernels.md has the measurements).
constexpr int kGroup = 8;
constexpr int kSparseGroup = 48;

class TileRunner {
 public:
  // bf16: the bf16 matrix phases (K read in place, V staged by VtPairs), or null (fp32
  // phases, K and V staged by KvRows). Quantized calls stage integer K rows in KvRows,
  // and V there too unless the bf16 P.V (pv bf16) or the integer one (pv int8, VtInt8)
  // takes it.
  TileRunner(const AttentionParams& p, const AttentionKernels& kern, const AttentionBf16Kernels* bf16, int64_t g,
             int64_t bk, int64_t tiles_per_kv_head, int group)
      : p_(p), kern_(kern), bf16_(bf16), qkern_(pick_quant_kernels(kern.tile_q)), tq_(kern.tile_q), g_(g), bk_(bk),
        pv8_(p.quant && p.quant->pv == DType::I8), s_(bk * tq_, Buf::kUninit),
        rows_(tq_ * std::max(p.D, p.Dv), Buf::kUninit) {
    if (bf16_) {
      vt2_.emplace(p, *bf16_, bk);
      p2_ = Buf((bk + 1) / 2 * tq_, Buf::kUninit);
    }
    if (pv8_) {
      vt8_.emplace(p, bk);
      p4_ = Buf((bk + 3) / 4 * tq_, Buf::kUninit);
      pscale_ = Buf((bk + kPBlock - 1) / kPBlock * tq_, Buf::kUninit);
    }
    if (!bf16_ || p.quant) kv_.emplace(p, kern, bk, tiles_per_kv_head, !bf16_ && !pv8_);
    // A group holds tiles of one kv head, so at most that many.
    tiles_.resize(size_t(std::min<int64_t>(group, tiles_per_kv_head)));
    for (Tile& t : tiles_) {
      // Quantized: qt holds int8 Q' in 4-channel groups (quant_kernels.h), d4 * tq * 4 bytes.
      t.qt = Buf(p.quant ? (p.D + 3) / 4 * tq_ : p.D * tq_, Buf::kUninit);
      if (p.quant) {
        t.qscale = Buf(tq_, Buf::kUninit);
        t.bias = Buf(tq_, Buf::kUninit);
        t.qm_k.assign(size_t(tq_), 0);
      }
      t.ot = Buf(p.Dv * tq_, Buf::kUninit);
      t.m = Buf(tq_, Buf::kUninit);
      t.l = Buf(tq_, Buf::kUninit);
      t.alpha = Buf(tq_, Buf::kUninit);
    }
  }

  // Runs tiles ref[t] (t < n <= the group) of batch b, all reading kv head hk, each over
  // its list blocks[t] (strictly ascending), key-block major.
  void run(int64_t b, int64_t hk, const TileRef* ref, int n, const std::vector<KeyBlock>* blocks) {
    if (bf16_) vt2_->select(b, hk);
    if (vt8_) vt8_->select(b, hk);
    if (kv_) kv_->select(b, hk);
    else kb_ = b * p_.k.stride[0] + hk * p_.k.stride[1];
    for (int t = 0; t < n; ++t) {
      Tile& tile = tiles_[t];
      tile.ref = ref[t];
      if (p_.quant) load_q_quant(b, tile);
      else if (bf16_) load_q_bf16(b, tile);
      else load_q(b, tile);
      std::fill(tile.m.data(), tile.m.data() + tq_, kInitMax);
      std::fill(tile.l.data(), tile.l.data() + tq_, 0.f);
      std::fill(tile.ot.data(), tile.ot.data() + p_.Dv * tq_, 0.f);
      // Keys outside the tile's band are hidden whatever the list says: trimming blocks
      // to it skips most of the masked part of diagonal blocks.
      attention_key_range(p_, tile.ref.lane0 / g_, (tile.ref.lane0 + tile.ref.lanes - 1) / g_ + 1, &tile.lo, &tile.hi);
      tile.next = 0;
    }
    // The union of the lists, ascending: each round takes the lowest block any tile has
    // next, and every tile whose next block it is.
    for (;;) {
      int64_t kb = INT64_MAX;
      for (int t = 0; t < n; ++t)
        if (tiles_[t].next < blocks[t].size()) kb = std::min(kb, blocks[t][tiles_[t].next].index);
      if (kb == INT64_MAX) break;
      for (int t = 0; t < n; ++t) {
        Tile& tile = tiles_[t];
        if (tile.next < blocks[t].size() && blocks[t][tile.next].index == kb) step(tile, blocks[t][tile.next++]);
      }
    }
    for (int t = 0; t < n; ++t) store(b, tiles_[t]);
  }

 private:
  struct Tile {
    Buf qt, ot, m, l, alpha;
    Buf qscale, bias;         // quantized: per lane, Q' scale x unit and unit * q.km
    std::vector<int64_t> qm_k;   // quantized with smoothQ: each lane's row of QuantQK::qm_k
    TileRef ref{};
    int64_t lo = 0, hi = 0;
    size_t next = 0;  // the next entry of the tile's list
  };

  void step(Tile& t, const KeyBlock& kb) {
    int64_t j0 = std::max(kb.index * bk_, t.lo), j1 = std::min((kb.index + 1) * bk_, t.hi);
    if (j0 >= j1) return;
    const int64_t b0 = kb.index * bk_;
    bool masked = kb.masked;
    if (bf16_) {
      // The bf16 P.V takes pairs of keys from the block's start, so a range starting or
      // ending at an odd key takes that key too: it lies outside the tile's band [lo, hi),
      // hidden from every row, and the mask hides it.
      const int64_t e0 = b0 + (j0 - b0) / 2 * 2, e1 = std::min(b0 + (j1 - b0 + 1) / 2 * 2, std::min(b0 + bk_, p_.Nk));
      masked = masked || e0 != j0 || e1 != j1;
      j0 = e0, j1 = e1;
    }
    if (pv8_) {
      // P is quantized per group of kPBlock keys from key 0 (the block starts one): the
      // range starts at its group's start, the keys before j0 lie outside the band and
      // are masked.
      const int64_t e0 = b0 + (j0 - b0) / kPBlock * kPBlock;
      masked = masked || e0 != j0;
      j0 = e0;
    }
    const int64_t nk = j1 - j0, skip = j0 - b0;  // skip: keys trimmed off the block's start
    float* s = s_.data();
    std::optional<KvBlock> kv;
    if (kv_) kv = kv_->block(kb.index);
    if (p_.quant) qk_quant(t, *kv, skip, j0, nk, s);
    else if (bf16_) qk_bf16(t, j0, nk, s);
    else kern_.qk(t.qt.data(), p_.D, kv->k + skip * kv->ks, kv->ks, nk, s);
    scores_to_p(t, j0, nk, masked);
    if (bf16_) {
      uint32_t* p2 = reinterpret_cast<uint32_t*>(p2_.data());
      bf16_->round_p(s, nk, p2);
      bf16_->pv(p2, nk, vt2_->block(kb.index) + skip / 2, vt2_->stride(), p_.Dv, t.ot.data(), t.alpha.data());
      return;
    }
    if (pv8_) {
      const VtInt8::Block v = vt8_->block(kb.index);
      qkern_.pv(PvInt{s, v.scale + skip, v.vt + skip, vt8_->stride(), nk, p_.Dv, int(tq_),
                      reinterpret_cast<uint32_t*>(p4_.data()), pscale_.data(), t.ot.data(), t.alpha.data()});
      return;
    }
    // P rounded to the pv type; V was rounded when staged. The fp32 P.V of the rounded
    // operands is exactly the rounding semantics.
    if (p_.quant && p_.quant->pv != DType::F32) round_to(p_.quant->pv, s, nk * tq_);
    if (kv->transposed) kern_.pv(s, nk, kv->v + skip, kv->vs, p_.Dv, t.ot.data(), t.alpha.data());
    else kern_.pv_rows(s, nk, kv->v + skip * kv->vs, kv->vs, p_.Dv, t.ot.data(), t.alpha.data());
  }

  // S^T of keys j0 .. j0+nk-1 in s_ (base-2 units) to P^T, and the tile's softmax state on.
  void scores_to_p(Tile& t, int64_t j0, int64_t nk, bool masked) {
    float* s = s_.data();
    if (p_.softcap > 0) kern_.softcap(s, nk * tq_, softcap_);
    if (masked) mask_block(p_, g_, t.ref.lane0, j0, nk, tq_, s);
    kern_.softmax(s, nk, t.m.data(), t.l.data(), t.alpha.data());
  }

  // The bf16 Q.K^T of keys [j0, j0 + nk), K read in place.
  void qk_bf16(const Tile& t, int64_t j0, int64_t nk, float* s) const {
    const int64_t ks = p_.k.stride[2];
    bf16_->qk(reinterpret_cast<const uint32_t*>(t.qt.data()), p_.D, p_.k.ptr<uint16_t>() + kb_ + j0 * ks, ks, nk, qscale_, s);
  }

  // Q^T of the tile in bf16 pairs, unscaled (qk applies the scale): rows of pairs into
  // rows_, an odd head dim padded with 0, then transposed.
  void load_q_bf16(int64_t b, Tile& t) {
    const int64_t d2 = (p_.D + 1) / 2;
    uint32_t* qt2 = reinterpret_cast<uint32_t*>(t.qt.data());
    uint32_t* rows = reinterpret_cast<uint32_t*>(rows_.data());
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
    float* qt = t.qt.data();
    if (t.ref.lanes < tq_) std::fill(qt, qt + p_.D * tq_, 0.f);
    for (int64_t r = 0; r < t.ref.lanes; ++r) load_q_row(p_, g_, b, t.ref.rg, t.ref.lane0 + r, rows_.data() + r * p_.D);
    kern_.transpose(rows_.data(), p_.D, t.ref.lanes, p_.D, qt, tq_);
  }

  // Quantized: scores of keys [j0, j0 + nk) from the integer Q.K^T, plus smoothQ's
  // qm . K' term per lane: one term per key (added by the kernel) where the tile holds one
  // head, else added here lane by lane.
  void qk_quant(const Tile& t, const KvBlock& kv, int64_t skip, int64_t j0, int64_t nk, float* s) const {
    const float* qm_k = p_.quant->qm_k;
    const QkInt a{reinterpret_cast<const int8_t*>(t.qt.data()), (p_.D + 3) / 4, int(tq_), kv.kq + skip * kv.kqs,
                  kv.kqs, nk, kv.ksum + skip, kv.kscale + skip, t.qscale.data(), t.bias.data(),
                  qm_k && g_ == 1 ? qm_k + t.qm_k[0] + j0 : nullptr, s};
    qkern_.qk(a);
    if (!qm_k || g_ == 1) return;
    for (int64_t j = 0; j < nk; ++j)
      for (int64_t r = 0; r < t.ref.lanes; ++r) s[j * tq_ + r] += qm_k[t.qm_k[size_t(r)] + j0 + j];
  }

  // Q'^T of the tile in int8 4-channel groups, each lane's scale (times the scores'
  // unit) and bias; unused lanes and channels are 0.
  void load_q_quant(int64_t b, Tile& t) {
    const QuantQK& qq = *p_.quant;
    const QuantView& qv = qq.q;
    int8_t* qt = reinterpret_cast<int8_t*>(t.qt.data());
    const int8_t off = int8_t(qkern_.q_xor);  // the kernel's offset of Q' (0 stays 0 + offset)
    std::fill(qt, qt + (p_.D + 3) / 4 * 4 * tq_, off);
    std::fill(t.qscale.data(), t.qscale.data() + tq_, 0.f);
    std::fill(t.bias.data(), t.bias.data() + tq_, 0.f);
    const double unit = q_scale(p_);
    int8_t* row = reinterpret_cast<int8_t*>(rows_.data());
    const int64_t d4 = (p_.D + 3) / 4;
    const uint32_t off4 = uint32_t(uint8_t(off)) * 0x01010101u;
    for (int64_t r = 0; r < t.ref.lanes; ++r) {
      const int64_t lane = t.ref.lane0 + r, h = t.ref.rg * g_ + lane % g_, n = lane / g_;
      quant_values(qv.row(b, h, n), qv.bits, p_.D, row);
      std::fill(row + p_.D, row + d4 * 4, int8_t(0));
      // A lane's four channels of a group are one word: copied whole, offset bytewise.
      for (int64_t i = 0; i < d4; ++i) {
        uint32_t w;
        std::memcpy(&w, row + 4 * i, 4);
        w ^= off4;
        std::memcpy(qt + (i * tq_ + r) * 4, &w, 4);
      }
      t.qscale[r] = float(double(qv.scale(b, h, n)) * unit);
      const int64_t row_index = (b * p_.Hq + h) * p_.Nq + n;
      if (qq.q_bias) t.bias[r] = qq.q_bias[row_index];
      t.qm_k[size_t(r)] = (b * p_.Hq + h) * p_.Nk;
    }
  }

  // O = O^T transposed, over l.
  void store(int64_t b, const Tile& t) {
    kern_.transpose(t.ot.data(), tq_, p_.Dv, t.ref.lanes, rows_.data(), p_.Dv);
    for (int64_t r = 0; r < t.ref.lanes; ++r)
      store_row(p_, g_, b, t.ref.rg, t.ref.lane0 + r, rows_.data() + r * p_.Dv, t.m[r], t.l[r]);
  }

  const AttentionParams& p_;
  const AttentionKernels& kern_;
  const AttentionBf16Kernels* bf16_;
  const QuantKernels& qkern_;
  const int64_t tq_, g_, bk_;
  const bool pv8_;              // pv 'int8': P.V on integers (quant_kernels.h's PvInt)
  std::optional<KvRows> kv_;    // fp32 phases, and quantized calls' K'
  std::optional<VtPairs> vt2_;  // bf16 P.V
  std::optional<VtInt8> vt8_;   // pv 'int8'
  int64_t kb_ = 0;              // bf16 Q.K^T: offset of the kv head's K
  std::vector<Tile> tiles_;
  Buf s_, rows_, p2_;  // S^T / P^T of a block; rows of Q or O being (un)staged; P^T bf16 pairs
  Buf p4_, pscale_;    // pv 'int8': P' of a block in words of 4 keys, and its scales
  const float softcap_ = softcap_log2(p_);
  const float qscale_ = float(q_scale(p_));  // bf16: Q^T is staged unscaled
};

}  // namespace

void tile_attention(const AttentionParams& p, const AttentionKernels& kern, const AttentionBf16Kernels* bf16) {
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
  const int group = plan.sparse() ? kSparseGroup : kGroup;
  ThreadPool::instance().run([&](int t, int n) {
    TileRunner runner(p, kern, bf16, plan.g(), plan.bk(), plan.tiles_per_kv_head(), group);
    std::vector<std::vector<KeyBlock>> blocks(static_cast<size_t>(group));
    std::vector<TileRef> ref(static_cast<size_t>(group));
    int members = 0;
    int64_t group_b = -1, group_hk = -1;
    auto flush = [&] {
      check_cancelled();
      if (members) runner.run(group_b, group_hk, ref.data(), members, blocks.data());
      members = 0;
    };
    for (int64_t w = 0; w < items; ++w) {
      // Owner: the thread whose share holds the item's cost midpoint.
      const int64_t mid2 = prefix[size_t(w)] + prefix[size_t(w) + 1];
      if (mid2 * n / (2 * total) != t) continue;
      const TilePlan::Item it = plan.item(w);
      const int64_t hk = plan.kv_head(it);
      if (it.b != group_b || hk != group_hk || members == group) flush();
      group_b = it.b, group_hk = hk;
      plan.key_blocks(it, &blocks[size_t(members)]);
      ref[size_t(members++)] = it.ref;
    }
    flush();
  });
}

}  // namespace subq::cpu
