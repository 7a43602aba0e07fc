// Which keys a query row of an attention kernel sees, written once for every
// kernel: the dense rule (causal / window, bottom-right aligned) and, for
// block-sparse calls, the key blocks listed for the row's query block.
//
// A kernel walks "key tiles" of BN keys: tile t holds keys [t*BN, (t+1)*BN).
// Dense attention visits a contiguous run of tiles; block-sparse attention the
// tiles of its listed mask blocks (a mask block is block/BN tiles), trimmed to
// the keys the dense rule leaves visible. Either way tile n of the walk is
// tiles[n], and the scores of a tile are element-masked with key_visible()
// unless block_fully_visible() says no key of the tile is hidden.
#pragma once
#include "../core/attention_params.h"
#include "attn_params.cuh"

namespace subq::cuda {

// The dense rule: query position i sees key j when 0 <= j < Nk and
//   window_first(i) <= j (left >= 0),  j <= window_last(i) (right >= 0).
SUBQ_DEVICE int window_first(const FwdParams& p, int i) { return i + p.Nk - p.Nq - p.window_left; }
SUBQ_DEVICE int window_last(const FwdParams& p, int i) { return i + p.Nk - p.Nq + p.window_right; }

SUBQ_DEVICE bool key_visible(const FwdParams& p, int i, int j) {
  return j < p.Nk && (p.window_left < 0 || j >= window_first(p, i)) && (p.window_right < 0 || j <= window_last(p, i));
}

// The keys [key_begin(i), key_end(i)) that position i sees.
SUBQ_DEVICE int key_begin(const FwdParams& p, int i) { return p.window_left < 0 ? 0 : max(window_first(p, i), 0); }
SUBQ_DEVICE int key_end(const FwdParams& p, int i) { return p.window_right < 0 ? p.Nk : min(window_last(p, i) + 1, p.Nk); }

// Whether every key of [j0, j0 + bn) is visible to every position of [i_lo, i_hi]
// (both bounds grow with i, so the extreme rows decide).
SUBQ_DEVICE bool block_fully_visible(const FwdParams& p, int i_lo, int i_hi, int j0, int bn) {
  return key_begin(p, i_hi) <= j0 && j0 + bn <= key_end(p, i_lo);
}

// Dense: tiles [first, first + count).
struct KeyTiles {
  int first, count;
  SUBQ_DEVICE int operator[](int n) const { return first + n; }
};

// Tiles of BN keys visible to rows [r0, r1) of a block row, this split's share.
SUBQ_DEVICE KeyTiles dense_key_tiles(const FwdParams& p, int r0, int r1, int bn, int split) {
  int i0, i1;
  pos_range(p, r0, r1, &i0, &i1);
  const int lo = key_begin(p, i0), hi = key_end(p, i1);
  if (hi <= lo) return {0, 0};
  const int b0 = lo / bn, b1 = (hi + bn - 1) / bn, per = (b1 - b0 + p.splits - 1) / p.splits;
  const int first = b0 + split * per, last = first + per < b1 ? first + per : b1;
  return {first, last > first ? last - first : 0};
}

// One row of the block mask: the ascending key blocks a (batch, head, query
// block) reads. Masked heads read their index list; Dense and Streaming heads
// are two runs, [0, sink_end) and then local_begin, local_begin + 1, ...
struct MaskRow {
  const int32_t* idx;  // Masked: block n is idx[n * stride]
  int64_t stride;
  int count;
  int sink_end, local_begin;
  SUBQ_DEVICE int operator[](int n) const {
    return idx ? idx[n * stride] : n < sink_end ? n : local_begin + (n - sink_end);
  }
};

SUBQ_DEVICE MaskRow mask_row(const FwdParams& p, int b, int h, int qb) {
  const FwdMask& m = p.mask;
  const int mh = h / m.heads_per_mask;
  const int mode = m.modes ? m.modes[h * m.modes_s] : int(HeadMode::Masked);
  MaskRow row{};
  if (mode == int(HeadMode::Masked)) {
    row.idx = m.idx + b * m.idx_sb + mh * m.idx_sh + qb * m.idx_sq;
    row.stride = m.idx_sk;
    row.count = m.cnt[b * m.cnt_sb + mh * m.cnt_sh + qb * m.cnt_sq];
  } else if (mode == int(HeadMode::Dense)) {
    row.sink_end = row.count = m.nkb;
  } else {
    // Streaming: the sinks, then the local blocks up to the diagonal block (the
    // one holding the key aligned with the query block's last row, bottom-right
    // as causal; -1 when that key precedes the sequence), sinks not repeated.
    const int last_row = min((qb + 1) * m.block, p.Nq) - 1;
    const int last_key = min(last_row + p.Nk - p.Nq, p.Nk - 1);
    const int diag = last_key < 0 ? -1 : last_key / m.block;
    row.sink_end = min(m.sink, m.nkb);
    row.local_begin = max(diag - m.local + 1, row.sink_end);
    row.count = row.sink_end + max(diag + 1 - row.local_begin, 0);
  }
  return row;
}

// Block-sparse: tiles [first, first + count) of the row's listed blocks taken as
// one ascending run of tiles, listed block n giving tiles (n << shift) ... of the run.
struct SparseKeyTiles {
  MaskRow row;
  int first, count, shift;  // a mask block is 1 << shift tiles
  SUBQ_DEVICE int operator[](int n) const {
    const int m = first + n;
    return (row[m >> shift] << shift) + (m & ((1 << shift) - 1));
  }
};

// Tiles of BN keys that rows [r0, r1) of query head h read: one mask row (the CTA's
// rows lie in one query block: BM divides the mask block), trimmed to the dense
// rule's key range. All threads of the block must call it (it counts with barriers).
template <int BN>
SUBQ_DEVICE SparseKeyTiles sparse_key_tiles(const FwdParams& p, int b, int h, int r0, int r1) {
  const MaskRow row = mask_row(p, b, h, r0 / p.mask.block);
  const int shift = p.mask.block == 2 * BN ? 1 : p.mask.block == 4 * BN ? 2 : 0, per = 1 << shift;
  const int lo = key_begin(p, r0), hi = key_end(p, r1 - 1);
  const int t_lo = lo / BN, t_hi = (hi + BN - 1) / BN;
  if (hi <= lo) return {row, 0, 0, shift};
  // The listed blocks that reach into tiles [t_lo, t_hi) are a run [a, z) of the
  // ascending list: a = how many end at or before t_lo, z = how many start before t_hi.
  int a = 0, z = row.count;
  if (lo > 0 || hi < p.Nk) {
    z = 0;
    for (int base = 0; base < row.count; base += blockDim.x) {
      const int n = base + threadIdx.x, kb = n < row.count ? row[n] : 0;
      a += __syncthreads_count(n < row.count && (kb + 1) * per <= t_lo);
      z += __syncthreads_count(n < row.count && kb * per < t_hi);
    }
  }
  if (z <= a) return {row, 0, 0, shift};
  // The first and last of them may stick out of the range: drop those tiles.
  const int first = (a << shift) + max(t_lo - (row[a] << shift), 0);
  const int last = (z << shift) - max(((row[z - 1] + 1) << shift) - t_hi, 0);
  return {row, first, last - first, shift};
}

// The tiles a CTA of the dense or the block-sparse variant walks.
template <bool SPARSE, int BN>
SUBQ_DEVICE auto key_tiles(const FwdParams& p, int b, int y, int r0, int r1, int split) {
  if constexpr (SPARSE) return sparse_key_tiles<BN>(p, b, y, r0, r1);
  else return dense_key_tiles(p, r0, r1, BN, split);
}

}  // namespace subq::cuda
