// The attention kernels' device-side parameters (semantics as in
// core/attention_params.h) and the mapping of a block's query rows to (head, position).
// Which keys a row sees is mask.cuh; the online softmax softmax.cuh; where a row's
// results go attn_store.cuh; the kernels as the host sees them attn_kernels.cuh.
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

}  // namespace subq::cuda
