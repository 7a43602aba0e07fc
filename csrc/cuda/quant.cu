// The quantized ops on CUDA: enqueue on the device's stream and return, as the other
// ops do (semantics: core/quant_params.h).
#include "error.cuh"
#include "quant.h"
#include "quant_launch.h"
#include "runtime.h"

namespace subq::cuda {

namespace {

template <class F>
void enqueue(int dev, const char* what, F&& launch) {
  try {
    launch(stream(dev));
  } catch (...) {
    check_launch(dev, what);
    throw;
  }
  check_launch(dev, what);
}

}  // namespace

void quantize(const QuantizeParams& p) {
  enqueue(p.x.device.index, "quantize", [&](CUstream_st* s) { quantize_launch(p, s); });
}

void dequantize(const DequantizeParams& p) {
  enqueue(p.in.data.device.index, "dequantize", [&](CUstream_st* s) { dequantize_launch(p, s); });
}

// The workspace (quantized Q and K, the smoothing terms) comes from the pool in stream
// order, so it is released right after the launches and reused only once they are done.
void quantized_attention(const QuantAttentionParams& p) {
  const int dev = p.attn.q.device.index;
  enqueue(dev, "quantizedAttention", [&](CUstream_st* s) {
    void* workspace = alloc(dev, size_t(quant_attention_workspace(p)));
    try {
      quant_attention_launch(p, workspace, s);
    } catch (...) {
      release(dev, workspace);
      throw;
    }
    release(dev, workspace);
  });
}

}  // namespace subq::cuda
