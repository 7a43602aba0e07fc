// Launches of the state-space kernels (ssm.cuh): one instantiation per element type.
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "../core/error.h"
#include "ssm.cuh"
#include "ssm.h"

namespace subq::cuda {

namespace {

using ssm::AnyF;

constexpr int kScanThreads = 128, kScanItems = 8;

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

int code(DType t) { return t == DType::F32 ? 0 : t == DType::F16 ? 1 : 2; }
AnyF any(const TensorView& t) { return AnyF{t.data, code(t.dtype)}; }

// A host table copied to the device for the duration of one call.
class DeviceTable {
 public:
  explicit DeviceTable(const std::vector<int64_t>& v) {
    check(cudaMalloc(&p_, v.size() * sizeof(int64_t)), "cudaMalloc");
    check(cudaMemcpy(p_, v.data(), v.size() * sizeof(int64_t), cudaMemcpyHostToDevice), "cudaMemcpy");
  }
  ~DeviceTable() { cudaFree(p_); }
  DeviceTable(const DeviceTable&) = delete;
  DeviceTable& operator=(const DeviceTable&) = delete;
  const int64_t* get() const { return static_cast<const int64_t*>(p_); }

 private:
  void* p_ = nullptr;
};

std::vector<int64_t> table(const std::vector<SsmSequence>& seqs) {
  std::vector<int64_t> t;
  for (const SsmSequence& s : seqs) t.insert(t.end(), {s.batch, s.start, s.len, s.slot});
  return t;
}

// Calls f with a value of the element type of dtype t (fp32, fp16 or bf16).
template <class F>
void by_dtype(DType t, F&& f) {
  if (t == DType::F32) f(float{});
  else if (t == DType::F16) f(__half{});
  else f(__nv_bfloat16{});
}

}  // namespace

void selective_scan(const SelectiveScanParams& p) {
  if (p.seqs.empty()) return;
  DeviceTable seqs(table(p.seqs));
  ssm::ScanArgs a{};
  a.u = p.u.data;
  a.delta = p.delta.data;
  a.z = p.z.data;
  a.out = p.out.data;
  a.u_s0 = p.u.stride[0], a.u_s1 = p.u.stride[1];
  a.dl_s0 = p.delta.stride[0], a.dl_s1 = p.delta.stride[1];
  a.z_s0 = p.z.stride[0], a.z_s1 = p.z.stride[1];
  a.o_s0 = p.out.stride[0], a.o_s1 = p.out.stride[1];
  a.A = p.A.ptr<float>();
  a.A_s0 = p.A.stride[0];
  a.B = any(p.B);
  a.C = any(p.C);
  for (int i = 0; i < 4; ++i) a.B_s[i] = p.B.stride[i], a.C_s[i] = p.C.stride[i];
  a.B_var = p.B_varying;
  a.C_var = p.C_varying;
  a.softplus = p.softplus;
  a.D = p.D.ptr<float>();
  a.bias = p.delta_bias.ptr<float>();
  a.init = p.initial_state.ptr<float>();
  a.init_s0 = p.initial_state.stride[0], a.init_s1 = p.initial_state.stride[1];
  a.last = p.last_state.ptr<float>();
  a.last_s0 = p.last_state.stride[0], a.last_s1 = p.last_state.stride[1];
  a.seqs = seqs.get();
  a.dstate = p.dstate;
  a.dpg = p.dim / p.groups;
  const dim3 grid(unsigned(p.dim), unsigned(p.seqs.size()));
  by_dtype(p.u.dtype, [&](auto t) {
    ssm::selective_scan_kernel<decltype(t), kScanThreads, kScanItems><<<grid, kScanThreads>>>(a);
  });
  check(cudaGetLastError(), "selectiveScan launch");
  check(cudaDeviceSynchronize(), "selectiveScan");
}

void selective_state_update(const StateUpdateParams& p) {
  DeviceTable slots(p.slots);
  ssm::UpdateArgs a{};
  a.state = p.state.ptr<float>();
  a.st_s0 = p.state.stride[0], a.st_s1 = p.state.stride[1];
  a.x = p.x.data;
  a.dt = p.dt.data;
  a.z = p.z.data;
  a.out = p.out.data;
  a.x_s0 = p.x.stride[0], a.dt_s0 = p.dt.stride[0], a.z_s0 = p.z.stride[0], a.o_s0 = p.out.stride[0];
  a.A = p.A.ptr<float>();
  a.A_s0 = p.A.stride[0];
  a.B = any(p.B);
  a.C = any(p.C);
  a.B_s0 = p.B.stride[0], a.B_s1 = p.B.stride[1], a.C_s0 = p.C.stride[0], a.C_s1 = p.C.stride[1];
  a.D = p.D.ptr<float>();
  a.bias = p.dt_bias.ptr<float>();
  a.slots = slots.get();
  a.dim = p.dim;
  a.dstate = p.dstate;
  a.dpg = p.dim / p.groups;
  a.softplus = p.softplus;
  const dim3 grid(unsigned((p.dim + 127) / 128), unsigned(p.batch));
  by_dtype(p.x.dtype, [&](auto t) { ssm::state_update_kernel<decltype(t)><<<grid, 128>>>(a); });
  check(cudaGetLastError(), "selectiveStateUpdate launch");
  check(cudaDeviceSynchronize(), "selectiveStateUpdate");
}

void causal_conv1d(const Conv1dParams& p) {
  if (p.seqs.empty()) return;
  DeviceTable seqs(table(p.seqs));
  ssm::ConvArgs a{};
  a.x = p.x.data;
  a.out = p.out.data;
  a.x_s0 = p.x.stride[0], a.x_s1 = p.x.stride[1], a.o_s0 = p.out.stride[0], a.o_s1 = p.out.stride[1];
  a.weight = any(p.weight);
  a.bias = any(p.bias);
  a.w_s0 = p.weight.stride[0];
  a.width = p.width;
  a.init = p.initial_states.data;
  a.fin = p.final_states.data;
  a.init_s0 = p.initial_states.stride[0], a.init_s1 = p.initial_states.stride[1];
  a.fin_s0 = p.final_states.stride[0], a.fin_s1 = p.final_states.stride[1];
  a.seqs = seqs.get();
  a.silu = p.silu;
  int64_t longest = 1;
  for (const SsmSequence& s : p.seqs) longest = s.len > longest ? s.len : longest;
  const int64_t blocks = (longest + 255) / 256;
  const dim3 grid(unsigned(blocks < 1024 ? blocks : 1024), unsigned(p.dim), unsigned(p.seqs.size()));
  by_dtype(p.x.dtype, [&](auto t) { ssm::conv1d_kernel<decltype(t)><<<grid, 256>>>(a); });
  check(cudaGetLastError(), "causalConv1d launch");
  check(cudaDeviceSynchronize(), "causalConv1d");
}

void causal_conv1d_update(const Conv1dUpdateParams& p) {
  DeviceTable slots(p.slots);
  ssm::ConvUpdateArgs a{};
  a.x = p.x.data;
  a.out = p.out.data;
  a.state = p.conv_state.data;
  a.x_s0 = p.x.stride[0], a.x_s1 = p.x.stride[1], a.o_s0 = p.out.stride[0], a.o_s1 = p.out.stride[1];
  a.st_s0 = p.conv_state.stride[0], a.st_s1 = p.conv_state.stride[1];
  a.state_len = p.state_len;
  a.steps = p.steps;
  a.weight = any(p.weight);
  a.bias = any(p.bias);
  a.w_s0 = p.weight.stride[0];
  a.width = p.width;
  a.dim = p.dim;
  a.slots = slots.get();
  a.silu = p.silu;
  const dim3 grid(unsigned((p.dim + 127) / 128), unsigned(p.batch));
  by_dtype(p.x.dtype, [&](auto t) { ssm::conv1d_update_kernel<decltype(t)><<<grid, 128>>>(a); });
  check(cudaGetLastError(), "causalConv1dUpdate launch");
  check(cudaDeviceSynchronize(), "causalConv1dUpdate");
}

}  // namespace subq::cuda
