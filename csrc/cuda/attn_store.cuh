// Where an attention kernel's row results go: the output tensor and the LSE, or, for a
// split-KV launch, this split's fp32 partials (FwdParams::part_o, part_lse) that
// attn_combine.cuh merges.
#pragma once
#include <cstdint>

#include "attn_params.cuh"

namespace subq::cuda {

// Stores one output value (already normalised) of a row.
template <Elem E>
SUBQ_DEVICE void store_row_value(const FwdParams& p, int b, int split, RowMap rm, int col, float v) {
  if (col >= p.Dv) return;
  if (p.splits > 1)
    p.part_o[((((int64_t)split * p.B + b) * p.Hq + rm.head) * p.Nq + rm.pos) * p.Dv + col] = v;
  else
    store_elem<E>(p.o, b * p.o_sb + rm.head * p.o_sh + rm.pos * p.o_sn + col, v);
}

// Stores a row's LSE (natural log, OnlineSoftmax::lse).
SUBQ_DEVICE void store_row_lse(const FwdParams& p, int b, int split, RowMap rm, float lse) {
  if (p.splits > 1) p.part_lse[(((int64_t)split * p.B + b) * p.Hq + rm.head) * p.Nq + rm.pos] = lse;
  else if (p.lse) p.lse[b * p.lse_sb + rm.head * p.lse_sh + rm.pos * p.lse_sn] = lse;
}

}  // namespace subq::cuda
