// The quantized ops on CUDA: enqueue on the device's stream and return, as the other
// ops do (semantics: core/quant_params.h).
#include "error.cuh"
#include "quant.h"
#include "quant_launch.h"
#include "runtime.h"

namespace subq::cuda {

void quantize(const QuantizeParams& p) {
  const int dev = p.x.device.index;
  launch_checked(dev, "quantize", [&] { quantize_launch(p, stream(dev)); });
}

void dequantize(const DequantizeParams& p) {
  const int dev = p.in.data.device.index;
  launch_checked(dev, "dequantize", [&] { dequantize_launch(p, stream(dev)); });
}

// The workspace (quantized Q and K, the smoothing terms) comes from the pool in stream
// order, so it is released right after the launches and reused only once they are done.
void quantized_attention(const QuantAttentionParams& p) {
  const int dev = p.attn.q.device.index;
  launch_checked(dev, "quantizedAttention", [&] {
    void* workspace = alloc(dev, size_t(quant_attention_workspace(p)));
    try {
      quant_attention_launch(p, workspace, stream(dev));
    } catch (...) {
      release(dev, workspace);
      throw;
    }
    release(dev, workspace);
  });
}

}  // namespace subq::cuda
