// CUDA status codes -> subq::Error carrying CUDA's own message.
#pragma once
#include <cuda_runtime.h>

namespace subq::cuda {

// Throws unless e is cudaSuccess: a RangeError for an out-of-memory, an Error
// otherwise; `what` names the operation.
void check(cudaError_t e, const char* what);

}  // namespace subq::cuda
