// What the attention-family ops read alike (napi/attention.cpp, napi/quant.cpp): the
// options of attention, and blockSparseAttention's mask ({indices, counts} or null) with
// its options, read before the call attaches memory (reading properties may run JavaScript).
#pragma once
#include "../ops/attention.h"
#include "../ops/sparse.h"
#include "call.h"

namespace subq::napi {

// scale, softcap, causal, returnLse, window, layout.
AttentionOptions read_attention_options(const Napi::Object& obj);

struct MaskArgs {
  BlockSparseOptions opt;
  TensorView *indices = nullptr, *counts = nullptr, *modes = nullptr;
  TensorView* dense = nullptr;  // a uint8 mask given as it is (when the op takes that form)
  // Whether the call is block-sparse at all: a mask or head modes given.
  bool active() const { return indices || dense || modes; }
};

// `mask` is {indices, counts}, null, or with allow_dense a uint8 Tensor.
MaskArgs read_mask(Call& c, const Napi::Value& mask, const Napi::Object& opts, bool allow_dense = false);

}  // namespace subq::napi
