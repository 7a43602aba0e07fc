// The compact form of a block mask on the CPU, and back: the rule of core/block_mask.h,
// row by row (a pass over B * Hm * nqb * nkb bytes, small next to the attention it feeds,
// so one thread).
#include "block_mask.h"

#include <algorithm>
#include <vector>

namespace subq::cpu {

void block_mask_compact(const BlockMaskParams& p) {
  const bmask::Rows rows = bmask::rows_of(p);
  int32_t* ix = p.indices.ptr<int32_t>();
  int32_t* ct = p.counts.ptr<int32_t>();
  int32_t* vis = p.visible.ptr<int32_t>();
  uint8_t* om = p.out_mask.ptr<uint8_t>();
  // A row's ids land here first, one store per block whether kept or not (no branch on
  // the mask's bits, which a sparse random mask would mispredict).
  std::vector<int32_t> ids(size_t(p.nkb) + 1);
  int32_t widest = 0;
  for (int64_t r = 0; r < p.B * p.Hm * p.nqb; ++r) {
    const bmask::Row row = rows.row(r);
    int32_t n = 0, nv = 0;
    for (int64_t kb = 0; kb < p.nkb; ++kb) {
      const bool keep = row.kept(kb);
      ids[size_t(n)] = int32_t(kb);
      n += keep;
      nv += keep & (kb < row.vis_end);
    }
    if (om) {
      std::fill(om + r * p.nkb, om + (r + 1) * p.nkb, uint8_t(0));
      for (int32_t x = 0; x < n; ++x) om[r * p.nkb + ids[size_t(x)]] = 1;
    }
    if (ix) {
      std::copy(ids.begin(), ids.begin() + n, ix + r * p.max_k);
      std::fill(ix + r * p.max_k + n, ix + (r + 1) * p.max_k, bmask::kPad);
    }
    ct[r] = n;
    if (vis) vis[r] = nv;
    widest = std::max(widest, n);
  }
  if (p.max_count) *p.max_count = std::max(*p.max_count, widest);
}

void block_mask_expand(const BlockMaskExpandParams& p) {
  const bmask::ListRows lists = bmask::list_rows_of(p);
  uint8_t* m = p.mask.ptr<uint8_t>();
  for (int64_t r = 0; r < p.B * p.Hm * p.nqb; ++r) {
    uint8_t* row = m + r * p.nkb;
    std::fill(row, row + p.nkb, uint8_t(0));
    const int32_t* ids = lists.ids(r);
    for (int32_t x = 0; x < lists.count(r); ++x) row[ids[x]] = 1;
  }
}

}  // namespace subq::cpu
