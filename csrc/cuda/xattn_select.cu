// XAttention's block selection on CUDA (the rule, and why it bisects on masses:
// core/xattention_select.h). One warp per (b, h, query block) row, 4 rows per block.
// Every mass of the search is the rule's fixed-order fp64 sum: lane l adds blocks
// l, l + 32, ..., then the xor-shuffle butterfly, which leaves the same bits in every
// lane, so the warp takes each branch of the search together. The bisection runs over
// the bit patterns of all positive floats, so nothing is sorted or staged: a row is read
// from global memory (L1) once per step, 2 + 31 + 1 passes of nkb / 32 loads per lane
// (plus log2 of the ties at the crossing score when several blocks share it), with no
// shared memory and no limit on the row length. Rows are short (nkb = N / block: 512 at
// 64K tokens), so this is small next to the scoring that produced them.
#include <string>

#include "../core/error.h"
#include "../core/xattention_select.h"
#include "launch_check.cuh"
#include "xattn_launch.h"

namespace subq::cuda {

namespace {

constexpr int kWarps = 4;

struct XSelectArgs {
  const float* scores;
  uint8_t* mask;
  int32_t* counts;
  const double* thresholds;
  int64_t s_sb, s_sh, s_sq;
  int64_t rows, H, nqb, nkb;
  bool causal, keep_sink, keep_recent;
};

__global__ void __launch_bounds__(kWarps * 32) xattn_select(const XSelectArgs a) {
  const int lane = threadIdx.x % 32;
  const int64_t r = int64_t(blockIdx.x) * kWarps + threadIdx.x / 32;
  if (r >= a.rows) return;  // whole warps: no barrier follows
  const int64_t qb = r % a.nqb, h = r / a.nqb % a.H, b = r / (a.nqb * a.H);
  const float* v = a.scores + b * a.s_sb + h * a.s_sh + qb * a.s_sq;
  const xsel::Row row = xsel::row_of(qb, a.nqb, a.nkb, a.causal, a.keep_sink, a.keep_recent);
  auto mass_of = [&](xsel::Cut c) {
    double s = 0;
    for (int64_t kb = lane; kb < row.end; kb += 32) s += xsel::member(xsel::rank(v, kb, row), kb, c) ? double(v[kb]) : 0.0;
#pragma unroll
    for (int w = 16; w >= 1; w /= 2) s += __shfl_xor_sync(0xffffffffu, s, w);
    return s;
  };
  // Every positive float's rank is listed: no sort, and 31 bisection steps.
  auto key_at = [](int64_t i) { return uint32_t(i + 1); };
  auto tie_span = [&](uint32_t tau, int64_t& first, int64_t& last) {
    first = row.end, last = -1;
    for (int64_t kb = lane; kb < row.end; kb += 32)
      if (xsel::rank(v, kb, row) == tau) {
        first = kb < first ? kb : first;
        last = kb;  // ascending per lane
      }
#pragma unroll
    for (int w = 16; w >= 1; w /= 2) {
      const int64_t f = __shfl_xor_sync(0xffffffffu, first, w), l = __shfl_xor_sync(0xffffffffu, last, w);
      first = f < first ? f : first;
      last = l > last ? l : last;
    }
  };
  const xsel::Cut c = xsel::select_row(a.thresholds[h], mass_of, int64_t(0x7f800000), key_at, tie_span);

  uint8_t* m = a.mask + r * a.nkb;
  int n = 0;
  for (int64_t kb = lane; kb < a.nkb; kb += 32) {
    const bool keep = xsel::kept(v, kb, row, c);
    m[kb] = keep;
    n += keep;
  }
#pragma unroll
  for (int w = 16; w >= 1; w /= 2) n += __shfl_xor_sync(0xffffffffu, n, w);
  if (lane == 0) a.counts[r] = n;
}

}  // namespace

void xattention_select_launch(const XSelectParams& p, const double* thresholds, CUstream_st* stream) {
  const int64_t rows = p.B * p.H * p.nqb;
  if (rows == 0) return;
  if ((rows + kWarps - 1) / kWarps >= (int64_t(1) << 31))
    range_error("CUDA XAttention selection: too many rows for one launch");
  XSelectArgs a{};
  a.scores = p.scores.ptr<float>(), a.mask = p.mask.ptr<uint8_t>(), a.counts = p.counts.ptr<int32_t>();
  a.thresholds = thresholds;
  a.s_sb = p.scores.stride[0], a.s_sh = p.scores.stride[1], a.s_sq = p.scores.stride[2];
  a.rows = rows, a.H = p.H, a.nqb = p.nqb, a.nkb = p.nkb;
  a.causal = p.causal, a.keep_sink = p.keep_sink, a.keep_recent = p.keep_recent;
  const dim3 grid(unsigned((rows + kWarps - 1) / kWarps));
  SIMT_LAUNCH(xattn_select, grid, dim3(kWarps * 32), 0, stream, a);
  check_last_launch("XAttention selection");
}

}  // namespace subq::cuda
