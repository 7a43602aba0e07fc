// The error of the last kernel launch on this thread, for the launch units: a
// RuntimeError naming what was launched ("CUDA <what>: <reason>"). The runtime side
// (error.cuh: launch_checked) then tells a lost device from a bad launch. Nothing to
// check under the SIMT emulator, where a launch runs to completion or throws.
#pragma once
#include <string>

#include "../core/error.h"
#include "../simt/simt.h"

namespace subq::cuda {

inline void check_last_launch(const std::string& what) {
#if !SIMT_EMULATED
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) runtime_error("CUDA " + what + ": " + cudaGetErrorString(e));
#else
  (void)what;
#endif
}

}  // namespace subq::cuda
