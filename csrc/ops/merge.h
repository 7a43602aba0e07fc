// Merging two partial attention results by their log-sum-exp: the checks that fill
// MergeParams (core/merge_params.h, which states the math) and the entry points.
#pragma once
#include <cstdint>

#include "../core/merge_params.h"

namespace subq {

// Checks the four inputs; fills everything but out/lse.
MergeParams merge_prepare(const TensorView& o1, const TensorView& lse1, const TensorView& o2, const TensorView& lse2,
                          Layout layout);
// Shapes of the outputs: out in the caller's layout, lse [B, H, N].
void merge_out_shape(const MergeParams& p, int64_t shape[4]);
void merge_lse_shape(const MergeParams& p, int64_t shape[3]);
void merge_bind_outputs(MergeParams& p, const TensorView& out, const TensorView& lse);
// Runs on the tensors' device.
void merge_run(const MergeParams& p);

}  // namespace subq
