// The two memory orders attention-family tensors come in, and the view that lets kernels
// see only one of them.
#pragma once
#include <cstdint>
#include <utility>

#include "tensor.h"

namespace subq {

enum class Layout { BHND, BNHD };

// A [B, N, H, D] view read as [B, H, N, D] (dims 1 and 2 swapped, no copy); a
// BHND view as it is. Kernels only ever see [B, H, N, D].
inline TensorView as_bhnd(const TensorView& t, Layout layout) {
  if (layout == Layout::BHND) return t;
  TensorView r = t;
  std::swap(r.shape[1], r.shape[2]);
  std::swap(r.stride[1], r.stride[2]);
  return r;
}

// The shape, in the caller's layout, of a tensor that kernels see as [B, H, N, D].
inline void layout_shape(Layout layout, int64_t B, int64_t H, int64_t N, int64_t D, int64_t s[4]) {
  const bool bnhd = layout == Layout::BNHD;
  s[0] = B;
  s[1] = bnhd ? N : H;
  s[2] = bnhd ? H : N;
  s[3] = D;
}

}  // namespace subq
