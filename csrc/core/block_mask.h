// A uint8 block mask to its compact form, one rule for the CPU and the CUDA kernels, so
// both give the same lists bit for bit. ops/block_mask.cpp checks the caller's arguments
// and fills BlockMaskParams; kernels trust them. No validation lives here.
//
// Source mask [B, Hs, nqb, nkb]; output row (b, hm, qb), hm < Hm = Hs / group, keeps key
// block kb when
//   - any of the group's source rows (b, hm * group + j, qb), j < group, has kb nonzero
//     (GQA union pooling: K/V blocks then read once per group; group 1: the row itself), or
//   - the token diagonal is on (block > 0) and kb == token_diagonal(qb): the block of the
//     key aligned bottom-right with query block qb's last row (core/attention_params.h,
//     BlockMask::diagonal_block, which xattention's scores can miss by one block when
//     Nq % block != Nk % block).
// Compact form (what lib's blockMaskToIndices has always given): counts[row] = kept
// blocks, indices[row, 0 .. count) = their ids ascending, indices[row, count .. max_k) = 0.
// visible[row] (optional): kept blocks below visible_end(qb) (core/xattention_select.h),
// the numerator of xattention's densities.
// The way back (BlockMaskExpandParams): mask[row, kb] = 1 for the row's first count ids,
// 0 elsewhere (ops/block_mask.cpp has checked the ids are key blocks).
#pragma once
#include <cstdint>

#include "tensor.h"
#include "xattention_select.h"

#if defined(__CUDACC__)
#define SUBQ_BMASK_FN __host__ __device__ __forceinline__
#else
#define SUBQ_BMASK_FN inline
#endif

namespace subq {

struct BlockMaskParams {
  TensorView mask;      // uint8 [B, Hs, nqb, nkb], last dim contiguous
  TensorView out_mask;  // uint8 [B, Hm, nqb, nkb] contiguous: the kept blocks as a mask; or no data
  TensorView indices;   // int32 [B, Hm, nqb, max_k] contiguous; no data: a counting pass
  TensorView counts;    // int32 [B, Hm, nqb] contiguous
  TensorView visible;   // int32 [B, Hm, nqb] contiguous, or no data
  int32_t* max_count = nullptr;  // when set: raised (atomic max) to the widest row's count
  int64_t B = 0, Hm = 0, group = 1, nqb = 0, nkb = 0, max_k = 0;
  int64_t block = 0, Nq = 0, Nk = 0;  // token diagonal, when block > 0
  bool causal = false;                // visible_end's rule for `visible`
};

struct BlockMaskExpandParams {
  TensorView indices;  // int32 [B, Hm, nqb, max_k], last dim contiguous
  TensorView counts;   // int32 [B, Hm, nqb]
  TensorView mask;     // uint8 [B, Hm, nqb, nkb] contiguous
  int64_t B = 0, Hm = 0, nqb = 0, nkb = 0, max_k = 0;
};

namespace bmask {

// Query block qb's token diagonal key block, -1 when its last row's aligned key is
// before the first key.
SUBQ_BMASK_FN int64_t token_diagonal(int64_t qb, int64_t block, int64_t Nq, int64_t Nk) {
  const int64_t row_end = (qb + 1) * block < Nq ? (qb + 1) * block : Nq;
  const int64_t last = row_end - 1 + Nk - Nq;
  if (last < 0) return -1;
  return (last < Nk - 1 ? last : Nk - 1) / block;
}

// One output row: its group's source rows and its forced block.
struct Row {
  const uint8_t* src;  // the first source row
  int64_t src_stride;  // elements from one source head's row to the next's
  int64_t group;
  int64_t diag;        // -1: none
  int64_t vis_end;

  SUBQ_BMASK_FN bool kept(int64_t kb) const {
    bool k = kb == diag;
    for (int64_t j = 0; j < group; ++j) k |= src[j * src_stride + kb] != 0;
    return k;
  }
};

// What a kernel needs to find its rows (BlockMaskParams less the outputs, small enough
// to pass by value to a CUDA kernel).
struct Rows {
  const uint8_t* mask;
  int64_t s_b, s_h, s_q;  // source mask strides
  int64_t Hm, group, nqb, nkb;
  int64_t block, Nq, Nk;
  bool causal;

  // Output row r = (b, hm, qb).
  SUBQ_BMASK_FN Row row(int64_t r) const {
    const int64_t qb = r % nqb, hm = r / nqb % Hm, b = r / (nqb * Hm);
    Row w;
    w.src = mask + b * s_b + hm * group * s_h + qb * s_q;
    w.src_stride = s_h;
    w.group = group;
    w.diag = block > 0 ? token_diagonal(qb, block, Nq, Nk) : -1;
    w.vis_end = xsel::visible_end(qb, nqb, nkb, causal);
    return w;
  }
};

inline Rows rows_of(const BlockMaskParams& p) {
  const TensorView& m = p.mask;
  return Rows{static_cast<const uint8_t*>(m.data), m.stride[0], m.stride[1], m.stride[2], p.Hm, p.group, p.nqb, p.nkb,
              p.block, p.Nq, p.Nk, p.causal};
}

// Where a compact form's row r = (b, hm, qb) starts: its ids, and its count.
struct ListRows {
  const int32_t *indices, *counts;
  int64_t i_b, i_h, i_q, c_b, c_h, c_q;  // strides
  int64_t Hm, nqb;
  SUBQ_BMASK_FN const int32_t* ids(int64_t r) const { return indices + r / (nqb * Hm) * i_b + r / nqb % Hm * i_h + r % nqb * i_q; }
  SUBQ_BMASK_FN int32_t count(int64_t r) const { return counts[r / (nqb * Hm) * c_b + r / nqb % Hm * c_h + r % nqb * c_q]; }
};

inline ListRows list_rows_of(const BlockMaskExpandParams& p) {
  const TensorView &i = p.indices, &c = p.counts;
  return ListRows{i.ptr<const int32_t>(), c.ptr<const int32_t>(), i.stride[0], i.stride[1], i.stride[2],
                  c.stride[0], c.stride[1], c.stride[2], p.Hm, p.nqb};
}

// The value of an indices entry past a row's count.
inline constexpr int32_t kPad = 0;

}  // namespace bmask
}  // namespace subq
