#include <string>

#include "../core/error.h"
#include "error.cuh"

namespace subq::cuda {

void check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  // Clears a non-sticky error so that it does not resurface in a later call.
  cudaGetLastError();
  const std::string msg = std::string("CUDA error in ") + what + ": " + cudaGetErrorString(e) + " (" +
                          cudaGetErrorName(e) + ")";
  if (e == cudaErrorMemoryAllocation) range_error(msg);
  runtime_error(msg);
}

}  // namespace subq::cuda
