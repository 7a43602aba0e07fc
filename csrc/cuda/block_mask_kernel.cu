// A uint8 block mask to its compact form on CUDA and back (the rule, shared with the
// CPU: core/block_mask.h). One warp per output row, 4 rows per block: the warp walks the row
// 32 key blocks at a time, lane l deciding block base + l; a ballot of the kept lanes
// gives each kept lane its slot (the kept lanes below it), so ids land ascending with no
// shared memory, and the row's count is the ballots' popcounts. Reads are 32 bytes per
// source row and step (rows are short: nkb = N / block, 512 at 64K tokens).
#include "../core/error.h"
#include "block_mask_launch.h"
#include "launch_check.cuh"

namespace subq::cuda {

namespace {

constexpr int kWarps = 4;

struct CompactArgs {
  bmask::Rows rows;
  int64_t n_rows, max_k;
  uint8_t* out_mask;
  int32_t *indices, *counts, *visible, *max_count;
};

__global__ void __launch_bounds__(kWarps * 32) block_mask_compact(const CompactArgs a) {
  const int lane = threadIdx.x % 32;
  const int64_t r = int64_t(blockIdx.x) * kWarps + threadIdx.x / 32;
  if (r >= a.n_rows) return;  // whole warps: no barrier follows
  const bmask::Row row = a.rows.row(r);
  const int64_t nkb = a.rows.nkb;
  const unsigned below = (1u << lane) - 1u;
  int32_t n = 0, nv = 0;
  for (int64_t base = 0; base < nkb; base += 32) {
    const int64_t kb = base + lane;
    const bool keep = kb < nkb && row.kept(kb);
    if (a.out_mask && kb < nkb) a.out_mask[r * nkb + kb] = keep;
    const unsigned kept = __ballot_sync(0xffffffffu, keep);
    if (a.indices && keep) a.indices[r * a.max_k + n + __popc(kept & below)] = int32_t(kb);
    n += __popc(kept);
    nv += __popc(__ballot_sync(0xffffffffu, keep && kb < row.vis_end));
  }
  if (a.indices)
    for (int64_t x = n + lane; x < a.max_k; x += 32) a.indices[r * a.max_k + x] = bmask::kPad;
  if (lane == 0) {
    a.counts[r] = n;
    if (a.visible) a.visible[r] = nv;
    if (a.max_count) atomicMax(a.max_count, n);
  }
}

// The way back: the warp clears its row, then lane x of each 32 sets the row's id x.
__global__ void __launch_bounds__(kWarps * 32) block_mask_expand(const bmask::ListRows lists, int64_t n_rows, int64_t nkb, uint8_t* mask) {
  const int lane = threadIdx.x % 32;
  const int64_t r = int64_t(blockIdx.x) * kWarps + threadIdx.x / 32;
  if (r >= n_rows) return;  // whole warps
  uint8_t* row = mask + r * nkb;
  for (int64_t kb = lane; kb < nkb; kb += 32) row[kb] = 0;
  __syncwarp();  // the clears before any lane's sets
  const int32_t* ids = lists.ids(r);
  const int32_t n = lists.count(r);
  for (int32_t x = lane; x < n; x += 32) row[ids[x]] = 1;
}

}  // namespace

void block_mask_expand_launch(const BlockMaskExpandParams& p, CUstream_st* stream) {
  const int64_t n_rows = p.B * p.Hm * p.nqb;
  if (n_rows == 0) return;
  if ((n_rows + kWarps - 1) / kWarps >= (int64_t(1) << 31)) range_error("CUDA block-mask expansion: too many rows for one launch");
  const dim3 grid(unsigned((n_rows + kWarps - 1) / kWarps));
  SIMT_LAUNCH(block_mask_expand, grid, dim3(kWarps * 32), 0, stream, bmask::list_rows_of(p), n_rows, p.nkb, p.mask.ptr<uint8_t>());
  check_last_launch("block-mask expansion");
}

void block_mask_compact_launch(const BlockMaskParams& p, CUstream_st* stream) {
  const int64_t n_rows = p.B * p.Hm * p.nqb;
  if (n_rows == 0) return;
  if ((n_rows + kWarps - 1) / kWarps >= (int64_t(1) << 31)) range_error("CUDA block-mask compaction: too many rows for one launch");
  CompactArgs a{};
  a.rows = bmask::rows_of(p);
  a.n_rows = n_rows, a.max_k = p.max_k;
  a.out_mask = p.out_mask.ptr<uint8_t>();
  a.indices = p.indices.ptr<int32_t>(), a.counts = p.counts.ptr<int32_t>(), a.visible = p.visible.ptr<int32_t>();
  a.max_count = p.max_count;
  const dim3 grid(unsigned((n_rows + kWarps - 1) / kWarps));
  SIMT_LAUNCH(block_mask_compact, grid, dim3(kWarps * 32), 0, stream, a);
  check_last_launch("block-mask compaction");
}

}  // namespace subq::cuda
