// The two memory orders attention-family tensors come in, and the view that lets kernels
// see only one of them.
#pragma once
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

}  // namespace subq
