// The CUDA state-space kernels under the SIMT emulator, on views in host memory.
// The emulator header comes first: ssm.cuh takes the CUDA built-ins from it.
#include "../../csrc/simt/simt.h"

#include "../../csrc/cuda/ssm_args.h"
#include "ssm_runner.h"

namespace subq::test {

void run_cuda_selective_scan(const SelectiveScanParams& p) {
  const auto table = cuda::ssm::sequence_table(p.seqs);
  const auto a = cuda::ssm::scan_args(p, table.data());
  cuda::ssm::with_scan_kernel(p, [&](auto kernel) {
    SIMT_LAUNCH(kernel, cuda::ssm::scan_grid(p), dim3(cuda::ssm::kScanChannels * 32), size_t(cuda::ssm::scan_smem(p)),
                nullptr, a);
  });
}

void run_cuda_state_update(const StateUpdateParams& p) {
  const auto a = cuda::ssm::update_args(p, p.slots.data());
  cuda::with_elem(p.x.dtype, [&](auto e) {
    SIMT_LAUNCH(cuda::ssm::state_update_kernel<decltype(e)::value>, cuda::ssm::update_grid(p), dim3(cuda::ssm::kThreads), 0, nullptr, a);
  });
}

void run_cuda_conv1d(const Conv1dParams& p) {
  const auto table = cuda::ssm::sequence_table(p.seqs);
  const auto a = cuda::ssm::conv_args(p, table.data());
  cuda::with_elem(p.x.dtype, [&](auto e) {
    SIMT_LAUNCH(cuda::ssm::conv1d_kernel<decltype(e)::value>, cuda::ssm::conv_grid(p), dim3(cuda::ssm::kConvThreads), 0, nullptr, a);
  });
}

void run_cuda_conv1d_update(const Conv1dUpdateParams& p) {
  const auto a = cuda::ssm::conv_update_args(p, p.slots.data());
  cuda::with_elem(p.x.dtype, [&](auto e) {
    SIMT_LAUNCH(cuda::ssm::conv1d_update_kernel<decltype(e)::value>, cuda::ssm::conv_update_grid(p), dim3(cuda::ssm::kThreads), 0, nullptr, a);
  });
}

}  // namespace subq::test
