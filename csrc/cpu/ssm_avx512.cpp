// The state-space kernels in zmm and in ymm with AVX-512VL.
#include "conv1d_kernel.h"
#include "selective_scan_kernel.h"
#include "ssm_simd.h"
#include "vec_avx512.h"

namespace subq::cpu {

const SsmKernels& ssm_kernels_zmm() {
  static const SsmKernels k{SelectiveScan<VecZmm>::run, StateUpdate<VecZmm>::run, Conv1d<VecZmm>::run};
  return k;
}

const SsmKernels& ssm_kernels_ymm() {
  static const SsmKernels k{SelectiveScan<VecYmm>::run, StateUpdate<VecYmm>::run, Conv1d<VecYmm>::run};
  return k;
}

}  // namespace subq::cpu
