// What the attention kernels share: the device-side parameters, the mapping of a
// block's query rows to (head, position), the visible key range and the list of
// key blocks a query-block row visits, and the epilogue that stores a row.
// Semantics as in ops/attention.h.
#pragma once
#include <cstdint>

#include "numeric.cuh"

namespace subq::cuda {

struct FwdParams {
  const void* q;
  const void* k;
  const void* v;
  void* o;
  float* lse;                 // null unless requested
  int64_t q_sb, q_sh, q_sn;   // element strides of [B, H, N, D] views (last dim contiguous)
  int64_t k_sb, k_sh, k_sn;
  int64_t v_sb, v_sh, v_sn;
  int64_t o_sb, o_sh, o_sn;
  int64_t lse_sb, lse_sh, lse_sn;
  int B, Hq, Hkv, Nq, Nk, D, Dv;
  // Query heads that one block row packs (GQA decode: the heads sharing a kv head
  // become extra rows, so K and V are read once for all of them); 1 = unpacked.
  int group;
  int rows;                   // rows per block row: Nq * group
  float scale_log2;           // scale * log2(e): scores live in the log2 domain
  float softcap_in, softcap_out;  // softcap c: s -> tanh(s * scale / c) * c * log2(e); in = 0: off
  int window_left, window_right;  // -1 = unlimited; causal is right = 0
  bool vec;                   // 16-byte cp.async is legal for q, k, v
  // Split-KV: block z = b * splits + split; partial results (normalised O and LSE,
  // fp32) go to part_o [splits, B, Hq, Nq, Dv] and part_lse [splits, B, Hq, Nq].
  int splits;
  float* part_o;
  float* part_lse;
};

// Row r of block row y: query head and position.
struct RowMap {
  int head, pos;
};
SUBQ_DEVICE RowMap map_row(const FwdParams& p, int y, int r) { return {y * p.group + r / p.Nq, r % p.Nq}; }

SUBQ_DEVICE bool key_visible(const FwdParams& p, int i, int j) {
  const int off = p.Nk - p.Nq;
  return j < p.Nk && (p.window_left < 0 || j >= i + off - p.window_left) &&
         (p.window_right < 0 || j <= i + off + p.window_right);
}

// The key blocks one query-block row visits: a contiguous range for dense
// attention; `list` (when set) holds block indices for block-sparse attention.
struct KeyBlocks {
  const int* list;
  int first, count;
  SUBQ_DEVICE int operator[](int i) const { return list ? list[first + i] : first + i; }
};

// The query positions [*lo, *hi] that rows [r0, r1) of a block row cover.
SUBQ_DEVICE void pos_range(const FwdParams& p, int r0, int r1, int* lo, int* hi) {
  *lo = r0 % p.Nq, *hi = (r1 - 1) % p.Nq;
  if (r0 / p.Nq != (r1 - 1) / p.Nq) *lo = 0, *hi = p.Nq - 1;  // rows of several heads
}

// Blocks of `bn` keys visible to rows [r0, r1) of a block row, this split's share.
SUBQ_DEVICE KeyBlocks dense_key_blocks(const FwdParams& p, int r0, int r1, int bn, int split) {
  int i0, i1;
  pos_range(p, r0, r1, &i0, &i1);
  const int off = p.Nk - p.Nq;
  int lo = p.window_left < 0 ? 0 : i0 + off - p.window_left;
  int hi = p.window_right < 0 ? p.Nk : i1 + off + p.window_right + 1;
  lo = lo < 0 ? 0 : lo;
  hi = hi > p.Nk ? p.Nk : hi;
  if (hi <= lo) return {nullptr, 0, 0};
  const int b0 = lo / bn, b1 = (hi + bn - 1) / bn, per = (b1 - b0 + p.splits - 1) / p.splits;
  const int first = b0 + split * per, last = first + per < b1 ? first + per : b1;
  return {nullptr, first, last > first ? last - first : 0};
}

// Whether every key of block [j0, j0 + bn) is visible to every row of [i_lo, i_hi].
SUBQ_DEVICE bool block_fully_visible(const FwdParams& p, int i_lo, int i_hi, int j0, int bn) {
  const int off = p.Nk - p.Nq;
  return j0 + bn <= p.Nk && (p.window_left < 0 || j0 >= i_hi + off - p.window_left) &&
         (p.window_right < 0 || j0 + bn - 1 <= i_lo + off + p.window_right);
}

// Stores one output value (already normalised) of a row, and a row's LSE (natural
// log, -inf for a row that saw no key): to the output, or to this split's partials.
template <Elem E>
SUBQ_DEVICE void store_row_value(const FwdParams& p, int b, int split, RowMap rm, int col, float v) {
  if (col >= p.Dv) return;
  if (p.splits > 1)
    p.part_o[((((int64_t)split * p.B + b) * p.Hq + rm.head) * p.Nq + rm.pos) * p.Dv + col] = v;
  else
    store_elem<E>(p.o, b * p.o_sb + rm.head * p.o_sh + rm.pos * p.o_sn + col, v);
}

SUBQ_DEVICE void store_row_lse(const FwdParams& p, int b, int split, RowMap rm, float lse) {
  if (p.splits > 1) p.part_lse[(((int64_t)split * p.B + b) * p.Hq + rm.head) * p.Nq + rm.pos] = lse;
  else if (p.lse) p.lse[b * p.lse_sb + rm.head * p.lse_sh + rm.pos * p.lse_sn] = lse;
}

// One forward kernel as the host sees it; explicitly instantiated in the attn_*.cu
// units (one unit per element type).
struct FwdKernel {
  void (*launch)(const FwdParams& p, dim3 grid, cudaStream_t stream);
  int (*blocks_per_sm)();  // blocks resident on one multiprocessor (2 under the emulator)
};
template <bool BF16, int HD, bool DEC> FwdKernel fwd_tc_kernel();
template <int HD> FwdKernel fwd_f32_kernel();
template <Elem E> void launch_combine(const FwdParams& p, cudaStream_t stream);

// Occupancy of a kernel with `smem` bytes of dynamic shared memory per block.
template <class K>
int resident_blocks(K kernel, int threads, int smem) {
#if SIMT_EMULATED
  (void)kernel, (void)threads, (void)smem;
  return 2;
#else
  int n = 0;
  if (cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem) != cudaSuccess ||
      cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kernel, threads, smem) != cudaSuccess) {
    cudaGetLastError();
    n = 1;
  }
  return n > 0 ? n : 1;
#endif
}

}  // namespace subq::cuda
