// How an attention call is cut into query tiles, and each tile's list of key blocks
// (attention_tiles.cpp runs them).
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "../core/attention_params.h"
#include "attention_mask.h"

namespace subq::cpu {
namespace {

// Keys per block of dense attention. The transposed-S kernels are insensitive to it
// from 48 to 384 (docs/cpu-kernels.md); a multiple of every micro-tile height keeps full
// blocks tail-free. Block-sparse calls use the mask's block (64 or 128: a multiple of 8 and
// 4, not of the ymm kernels' 6, which then run a short tail).
constexpr int64_t kBlockK = 192;

// A tile: packed rows [lane0, lane0 + lanes) of one row group (see attention_rows.h for
// the packing of a GQA group's heads).
struct TileRef {
  int64_t rg;     // row group: kv head (packed heads) or query head (one head per group)
  int64_t lane0;  // first packed row
  int64_t lanes;  // packed rows, at most tile_q
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

  bool sparse() const { return sparse_; }
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

}  // namespace
}  // namespace subq::cpu
