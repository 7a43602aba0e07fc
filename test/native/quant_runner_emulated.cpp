#include <cstdint>
#include <vector>

#include "../../csrc/cuda/quant_launch.h"
#include "quant_runner.h"

namespace subq::test {

void run_cuda_quantize(const QuantizeParams& p) { cuda::quantize_launch(p, nullptr); }

void run_cuda_dequantize(const DequantizeParams& p) { cuda::dequantize_launch(p, nullptr); }

void run_cuda_quant_attention(const QuantAttentionParams& p) {
  // 0xff-filled (NaN scales and means), so what the kernels fail to write shows up.
  std::vector<uint8_t> ws(size_t(cuda::quant_attention_workspace(p) + 256), 0xff);
  void* base = ws.data() + (256 - reinterpret_cast<uintptr_t>(ws.data()) % 256) % 256;
  cuda::quant_attention_launch(p, base, nullptr);
}

}  // namespace subq::test
