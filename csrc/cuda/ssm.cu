// Launches of the state-space kernels (ssm.cuh): one instantiation per element type.
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "../core/error.h"
#include "ssm.h"
#include "ssm_args.h"

namespace subq::cuda {

namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

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

// Calls f with the element tag of dtype t (ssm::F32, F16 or BF16).
template <class F>
void by_dtype(DType t, F&& f) {
  if (t == DType::F32) f(ssm::F32{});
  else if (t == DType::F16) f(ssm::F16{});
  else f(ssm::BF16{});
}

void finish(const char* what) {
  check(cudaGetLastError(), what);
  check(cudaDeviceSynchronize(), what);
}

}  // namespace

void selective_scan(const SelectiveScanParams& p) {
  if (p.seqs.empty()) return;
  DeviceTable seqs(ssm::sequence_table(p.seqs));
  const ssm::ScanArgs a = ssm::scan_args(p, seqs.get());
  by_dtype(p.u.dtype, [&](auto e) {
    ssm::selective_scan_kernel<decltype(e), ssm::kScanChannels, ssm::kScanItems><<<ssm::scan_grid(p), ssm::kScanChannels * 32>>>(a);
  });
  finish("selectiveScan");
}

void selective_state_update(const StateUpdateParams& p) {
  DeviceTable slots(p.slots);
  const ssm::UpdateArgs a = ssm::update_args(p, slots.get());
  by_dtype(p.x.dtype, [&](auto e) { ssm::state_update_kernel<decltype(e)><<<ssm::update_grid(p), ssm::kThreads>>>(a); });
  finish("selectiveStateUpdate");
}

void causal_conv1d(const Conv1dParams& p) {
  if (p.seqs.empty()) return;
  DeviceTable seqs(ssm::sequence_table(p.seqs));
  const ssm::ConvArgs a = ssm::conv_args(p, seqs.get());
  by_dtype(p.x.dtype, [&](auto e) { ssm::conv1d_kernel<decltype(e)><<<ssm::conv_grid(p), ssm::kConvThreads>>>(a); });
  finish("causalConv1d");
}

void causal_conv1d_update(const Conv1dUpdateParams& p) {
  DeviceTable slots(p.slots);
  const ssm::ConvUpdateArgs a = ssm::conv_update_args(p, slots.get());
  by_dtype(p.x.dtype, [&](auto e) {
    ssm::conv1d_update_kernel<decltype(e)><<<ssm::conv_update_grid(p), ssm::kThreads>>>(a);
  });
  finish("causalConv1dUpdate");
}

}  // namespace subq::cuda
