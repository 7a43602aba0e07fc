// Launches of the state-space kernels (ssm.cuh): one instantiation per element type.
#include <cuda_runtime.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.h"
#include "device_table.h"
#include "error.cuh"
#include "runtime.h"
#include "ssm.h"
#include "ssm_args.h"

namespace subq::cuda {

namespace {

// Kernels run on the device's stream (runtime.h), ordered with the tensors'
// allocations and frees; the call returns once they are enqueued.
void finish(int device, const char* what) { check_launch(device, what); }

}  // namespace

void selective_scan(const SelectiveScanParams& p) {
  if (p.seqs.empty()) return;
  DeviceTable seqs(p.u.device.index, ssm::sequence_table(p.seqs));
  const ssm::ScanArgs a = ssm::scan_args(p, seqs.get());
  ssm::with_scan_kernel(p, [&](auto kernel) {
    kernel<<<ssm::scan_grid(p), ssm::kScanChannels * 32, ssm::scan_smem(p), stream(p.u.device.index)>>>(a);
  });
  finish(p.u.device.index, "selectiveScan");
}

void selective_state_update(const StateUpdateParams& p) {
  DeviceTable slots(p.x.device.index, p.slots);
  const ssm::UpdateArgs a = ssm::update_args(p, slots.get());
  with_elem(p.x.dtype, [&](auto e) { ssm::state_update_kernel<decltype(e)::value><<<ssm::update_grid(p), ssm::kThreads, 0, stream(p.x.device.index)>>>(a); });
  finish(p.x.device.index, "selectiveStateUpdate");
}

void causal_conv1d(const Conv1dParams& p) {
  if (p.seqs.empty()) return;
  DeviceTable seqs(p.x.device.index, ssm::sequence_table(p.seqs));
  const ssm::ConvArgs a = ssm::conv_args(p, seqs.get());
  with_elem(p.x.dtype, [&](auto e) { ssm::conv1d_kernel<decltype(e)::value><<<ssm::conv_grid(p), ssm::kConvThreads, 0, stream(p.x.device.index)>>>(a); });
  finish(p.x.device.index, "causalConv1d");
}

void causal_conv1d_update(const Conv1dUpdateParams& p) {
  DeviceTable slots(p.x.device.index, p.slots);
  const ssm::ConvUpdateArgs a = ssm::conv_update_args(p, slots.get());
  with_elem(p.x.dtype, [&](auto e) {
    ssm::conv1d_update_kernel<decltype(e)::value><<<ssm::conv_update_grid(p), ssm::kThreads, 0, stream(p.x.device.index)>>>(a);
  });
  finish(p.x.device.index, "causalConv1dUpdate");
}

}  // namespace subq::cuda
