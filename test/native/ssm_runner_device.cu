// Device twin of ssm_runner_emulated.cpp: copies the views to the GPU, runs the
// launches of csrc/cuda/ssm.cu, and copies the outputs (and updated states) back
// once the device's stream has run them (the launches only enqueue).
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "../../csrc/cuda/runtime.h"
#include "../../csrc/cuda/ssm.h"
#include "ssm_runner.h"

namespace subq::test {

namespace {

void ok(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

// A device copy of a view's buffer; back() copies it to the host view.
struct DeviceCopy {
  void* ptr = nullptr;
  size_t bytes = 0;
  explicit DeviceCopy(TensorView& t) : bytes(size_t(t.capacity) * dtype_size(t.dtype)) {
    if (!t.data) return;
    ok(cudaMalloc(&ptr, bytes ? bytes : 1), "cudaMalloc");
    ok(cudaMemcpy(ptr, t.data, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to device");
    host = t.data;
    t.data = ptr;
    t.device = Device{DeviceKind::CUDA, 0};
  }
  ~DeviceCopy() { cudaFree(ptr); }
  void back() const {
    if (ptr) ok(cudaMemcpy(host, ptr, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to host");
  }
  void* host = nullptr;
};

}  // namespace

void run_cuda_selective_scan(const SelectiveScanParams& p) {
  SelectiveScanParams d = p;
  DeviceCopy u(d.u), dl(d.delta), A(d.A), B(d.B), C(d.C), D(d.D), z(d.z), bias(d.delta_bias), init(d.initial_state),
      out(d.out), last(d.last_state);
  cuda::selective_scan(d);
  cuda::wait(0);
  out.back();
  last.back();
}

void run_cuda_state_update(const StateUpdateParams& p) {
  StateUpdateParams d = p;
  DeviceCopy st(d.state), x(d.x), dt(d.dt), A(d.A), B(d.B), C(d.C), D(d.D), z(d.z), bias(d.dt_bias), out(d.out);
  cuda::selective_state_update(d);
  cuda::wait(0);
  out.back();
  st.back();
}

void run_cuda_conv1d(const Conv1dParams& p) {
  Conv1dParams d = p;
  DeviceCopy x(d.x), w(d.weight), bias(d.bias), init(d.initial_states), out(d.out), fin(d.final_states);
  cuda::causal_conv1d(d);
  cuda::wait(0);
  out.back();
  fin.back();
}

void run_cuda_conv1d_update(const Conv1dUpdateParams& p) {
  Conv1dUpdateParams d = p;
  DeviceCopy x(d.x), st(d.conv_state), w(d.weight), bias(d.bias), out(d.out);
  cuda::causal_conv1d_update(d);
  cuda::wait(0);
  out.back();
  st.back();
}

}  // namespace subq::test
