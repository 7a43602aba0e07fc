// blockSparseAttention's mask ({indices, counts} or null) and its options, read before
// the call attaches memory (reading properties may run JavaScript). Shared by the ops that
// take a block mask (napi/attention.cpp, napi/quant.cpp).
#pragma once
#include "../ops/sparse.h"
#include "call.h"

namespace subq::napi {

struct MaskArgs {
  BlockSparseOptions opt;
  TensorView *indices = nullptr, *counts = nullptr, *modes = nullptr;
  // Whether the call is block-sparse at all: a mask or head modes given.
  bool active() const { return indices || modes; }
};

MaskArgs read_mask(Call& c, const Napi::Value& mask, const Napi::Object& opts);

}  // namespace subq::napi
