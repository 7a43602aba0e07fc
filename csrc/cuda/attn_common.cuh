// What the attention kernels share: the device-side parameters, the mapping of a
// block's query rows to (head, position), and the epilogue that stores a row.
// Which keys a row sees (the dense rule, the block-sparse lists) is mask.cuh.
// Semantics as in core/attention_params.h.
#pragma once
#include <cstdint>

#include "numeric.cuh"

namespace subq::cuda {

// Block-sparse attention (block > 0): BlockMask of core/attention_params.h with
// device pointers and element strides. Calls with a mask are never packed or split.
struct FwdMask {
  int block, nkb;           // 64 or 128 keys and rows a block; key blocks
  int heads_per_mask;       // Hq / Hm: query head h reads mask head h / heads_per_mask
  const int32_t* idx;       // [B, Hm, nqb, max_k]
  int64_t idx_sb, idx_sh, idx_sq, idx_sk;
  const int32_t* cnt;       // [B, Hm, nqb]
  int64_t cnt_sb, cnt_sh, cnt_sq;
  const uint8_t* modes;     // [Hq] HeadMode, or null: every head Masked
  int64_t modes_s;
  int sink, local;          // Streaming heads' sink and local blocks
};

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
  FwdMask mask;
};

// Row r of block row y: query head and position.
struct RowMap {
  int head, pos;
};
SUBQ_DEVICE RowMap map_row(const FwdParams& p, int y, int r) { return {y * p.group + r / p.Nq, r % p.Nq}; }

// The query positions [*lo, *hi] that rows [r0, r1) of a block row cover.
SUBQ_DEVICE void pos_range(const FwdParams& p, int r0, int r1, int* lo, int* hi) {
  *lo = r0 % p.Nq, *hi = (r1 - 1) % p.Nq;
  if (r0 / p.Nq != (r1 - 1) / p.Nq) *lo = 0, *hi = p.Nq - 1;  // rows of several heads
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

// A row's LSE (natural log) from its running max m and sum l in the log2 domain;
// -inf for a row that saw no key.
// The natural-log LSE of a row from its base-2 state (m, l): -inf for a row that saw no key
// (l == 0), NaN when its scores were NaN (l is then NaN), so a merge keeps the NaN.
SUBQ_DEVICE float row_lse(float m, float l) { return l == 0.f ? -INFINITY : (m + log2f(l)) * 0.69314718055994531f; }

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
// SPARSE: the block-sparse variant (key tiles from FwdParams::mask, see mask.cuh); for
// the tensor-core kernel the mask block its rows fit (64 or 128; 0: dense).
template <bool BF16, int HD, bool DEC, int SPARSE> FwdKernel fwd_tc_kernel();
template <int HD, bool SPARSE> FwdKernel fwd_f32_kernel();
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
