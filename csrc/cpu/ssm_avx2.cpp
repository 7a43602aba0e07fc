// The state-space kernels in ymm with AVX2 + FMA.
#include "conv1d_kernel.h"
#include "selective_scan_kernel.h"
#include "ssm_simd.h"
#include "vec_avx2.h"

namespace subq::cpu {

const SsmKernels& ssm_kernels_avx2() {
  static const SsmKernels k{SelectiveScan<VecAvx2>::run, StateUpdate<VecAvx2>::run, Conv1d<VecAvx2>::run};
  return k;
}

}  // namespace subq::cpu
