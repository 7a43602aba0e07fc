// Device twin of quant_runner_emulated.cpp: the same test cases on a real GPU.
#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../../csrc/cuda/quant_launch.h"
#include "quant_runner.h"

namespace subq::test {

namespace {

void ok(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

// Device copies of host buffers, copied back on request; freed together.
class Copies {
 public:
  ~Copies() {
    for (const Copy& c : copies_) cudaFree(c.dev);
  }
  // A device copy of [host, host + bytes) at the same address alignment (mod 256).
  void* to_device(void* host, size_t bytes) {
    if (!host) return nullptr;
    const size_t shift = reinterpret_cast<uintptr_t>(host) % 256;
    void* base = nullptr;
    ok(cudaMalloc(&base, bytes + shift + 1), "cudaMalloc");
    copies_.push_back({base, host, bytes});
    void* dev = static_cast<char*>(base) + shift;
    copies_.back().ptr = dev;
    if (bytes) ok(cudaMemcpy(dev, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to device");
    return dev;
  }
  void view(TensorView& t) { t.data = to_device(t.data, size_t(t.capacity) * dtype_size(t.dtype)); }
  void quant(QuantView& v) {
    v.data.data = to_device(v.data.data, size_t(v.B * v.H * v.N * v.row_bytes()));
    v.scales.data = to_device(v.scales.data, size_t(v.B * v.H * v.groups()) * sizeof(float));
    v.mean.data = to_device(v.mean.data, size_t(v.B * v.H * v.D) * sizeof(float));
  }
  // Waits for the kernels, then copies the device buffer at `dev` back to its host buffer.
  void back(const void* dev) {
    ok(cudaDeviceSynchronize(), "kernels");
    for (const Copy& c : copies_)
      if (c.ptr == dev && c.bytes) ok(cudaMemcpy(c.host, c.ptr, c.bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to host");
  }

 private:
  struct Copy {
    void* dev;
    void* host;
    size_t bytes;
    void* ptr = nullptr;
  };
  std::vector<Copy> copies_;
};

}  // namespace

void run_cuda_quantize(const QuantizeParams& p) {
  Copies c;
  QuantizeParams d = p;
  c.view(d.x);
  c.quant(d.out);
  cuda::quantize_launch(d, nullptr);
  c.back(d.out.data.data);
  c.back(d.out.scales.data);
  if (d.out.mean.data) c.back(d.out.mean.data);
}

void run_cuda_dequantize(const DequantizeParams& p) {
  Copies c;
  DequantizeParams d = p;
  c.quant(d.in);
  c.view(d.out);
  cuda::dequantize_launch(d, nullptr);
  c.back(d.out.data);
}

void run_cuda_quant_attention(const QuantAttentionParams& p) {
  Copies c;
  QuantAttentionParams d = p;
  AttentionParams& a = d.attn;
  c.view(a.q);
  // A pre-quantized k or v stands in as a view that is never read: not copied.
  if (d.kq.present()) a.k.data = nullptr;
  else c.view(a.k);
  if (d.vq.present()) a.v.data = nullptr;
  else c.view(a.v);
  c.view(a.out);
  if (a.lse.data) c.view(a.lse);
  if (a.mask.indices.data) c.view(a.mask.indices);
  if (a.mask.counts.data) c.view(a.mask.counts);
  if (a.mask.head_modes.data) c.view(a.mask.head_modes);
  if (d.kq.present()) c.quant(d.kq);
  if (d.vq.present()) c.quant(d.vq);
  void* ws = nullptr;
  ok(cudaMalloc(&ws, size_t(cuda::quant_attention_workspace(d)) + 1), "cudaMalloc");
  try {
    cuda::quant_attention_launch(d, ws, nullptr);
    c.back(a.out.data);
    if (a.lse.data) c.back(a.lse.data);
  } catch (...) {
    cudaFree(ws);
    throw;
  }
  cudaFree(ws);
}

}  // namespace subq::test
