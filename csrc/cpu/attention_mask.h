// The visibility rule of core/attention_params.h on the CPU's tiles: which key blocks a
// query tile reads (dense: the visible range cut into blocks; block-sparse: the blocks its
// query block lists, trimmed to that range) and which scores inside a block are hidden.
// The tile driver (attention_tiles.cpp) walks the lists; nothing else knows the rule.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "../core/attention_params.h"
#include "attention_kernels.h"

namespace subq::cpu {

struct KeyBlock {
  int64_t index;  // keys [index * bk, min((index + 1) * bk, Nk))
  bool masked;    // some (query, key) pair of the tile x block is hidden by the dense rule
};

// Appends block b of `bk` keys for query rows [i0, i1) unless the dense rule hides all
// of it. The visible set of a row range is a band, so a block is wholly visible when it
// lies inside both the strictest left bound and the strictest right bound.
inline void push_key_block(const AttentionParams& p, int64_t bk, int64_t i0, int64_t i1, int64_t lo, int64_t hi,
                           int64_t b, std::vector<KeyBlock>* out) {
  const int64_t j0 = b * bk, j1 = std::min(j0 + bk, p.Nk);
  if (j1 <= lo || j0 >= hi) return;
  const int64_t off = p.Nk - p.Nq;
  const bool left_open = p.window_left < 0 || j0 >= (i1 - 1) + off - p.window_left;
  const bool right_open = p.window_right < 0 || j1 - 1 <= i0 + off + p.window_right;
  out->push_back({b, !(left_open && right_open)});
}

// Dense attention: every block meeting the visible range of rows [i0, i1).
inline void dense_key_blocks(const AttentionParams& p, int64_t bk, int64_t i0, int64_t i1, std::vector<KeyBlock>* out) {
  out->clear();
  int64_t lo, hi;
  attention_key_range(p, i0, i1, &lo, &hi);
  for (int64_t b = lo / bk; b * bk < hi; ++b) push_key_block(p, bk, i0, i1, lo, hi, b, out);
}

// The mode of query head h (HeadMode::Masked when the call gives none).
inline HeadMode head_mode(const BlockMask& m, int64_t h) {
  if (!m.head_modes.data) return HeadMode::Masked;
  return HeadMode(m.head_modes.ptr<uint8_t>()[h * m.head_modes.stride[0]]);
}

// Calls f(kb) for each key block that query block qb of (batch b, query head h) lists,
// ascending: all of them (Dense), sink + local blocks (Streaming), or its index row.
template <class F>
void for_each_listed_block(const AttentionParams& p, int64_t b, int64_t h, int64_t qb, F&& f) {
  const BlockMask& m = p.mask;
  switch (head_mode(m, h)) {
    case HeadMode::Dense:
      for (int64_t kb = 0; kb < m.nkb; ++kb) f(kb);
      return;
    case HeadMode::Streaming: {
      const int64_t diag = m.diagonal_block(qb, p.Nq, p.Nk);
      const int64_t sink = std::min(m.sink_blocks, diag + 1);
      for (int64_t kb = 0; kb < sink; ++kb) f(kb);
      for (int64_t kb = std::max(sink, diag - m.local_blocks + 1); kb <= diag; ++kb) f(kb);
      return;
    }
    case HeadMode::Masked: {
      const int64_t mh = h / (p.Hq / m.Hm);
      const TensorView &ix = m.indices, &ct = m.counts;
      const int32_t* row = ix.ptr<int32_t>() + b * ix.stride[0] + mh * ix.stride[1] + qb * ix.stride[2];
      const int64_t n = ct.ptr<int32_t>()[b * ct.stride[0] + mh * ct.stride[1] + qb * ct.stride[2]];
      for (int64_t x = 0; x < n; ++x) f(int64_t(row[x * ix.stride[3]]));
      return;
    }
  }
}

// Block-sparse attention: the blocks listed for query block qb of (b, h), trimmed to
// the visible range of rows [i0, i1) (inside qb).
inline void listed_key_blocks(const AttentionParams& p, int64_t b, int64_t h, int64_t qb, int64_t i0, int64_t i1,
                              std::vector<KeyBlock>* out) {
  out->clear();
  int64_t lo, hi;
  attention_key_range(p, i0, i1, &lo, &hi);
  if (lo >= hi) return;
  for_each_listed_block(p, b, h, qb, [&](int64_t kb) { push_key_block(p, p.mask.block, i0, i1, lo, hi, kb, out); });
}

// Hides the scores the dense rule hides in a block's S^T (nk keys from j0, rows of tq
// lanes). The tile's lanes are the packed rows lane0, lane0 + 1, ... with packed row
// r = query row r / g (g query heads per row, see the driver): key j is visible from
// rows [j - off - right, j - off + left], i.e. the lanes
// [(j - off - right) * g - lane0, (j - off + left + 1) * g - lane0).
inline void mask_block(const AttentionParams& p, int64_t g, int64_t lane0, int64_t j0, int64_t nk, int64_t tq, float* s) {
  const int64_t off = p.Nk - p.Nq;
  for (int64_t r = 0; r < nk; ++r) {
    const int64_t j = j0 + r;
    const int64_t a = std::clamp<int64_t>(p.window_right < 0 ? 0 : (j - off - p.window_right) * g - lane0, 0, tq);
    const int64_t b =
        std::clamp<int64_t>(p.window_left < 0 ? tq : (j - off + p.window_left + 1) * g - lane0, a, tq);
    float* row = s + r * tq;
    std::fill(row, row + a, kMaskedScore);
    std::fill(row + b, row + tq, kMaskedScore);
  }
}

}  // namespace subq::cpu
