// One instantiation of the templated state-space kernels per vector form; the
// *_avx512.cpp / *_avx2.cpp files provide theirs, ssm.cpp the scalar one.
#pragma once
#include "../core/ssm_params.h"

namespace subq::cpu {

struct SsmKernels {
  // Each runs share t of n of the work (static split; results do not depend on n).
  void (*scan)(const SelectiveScanParams&, int t, int n);
  void (*update)(const StateUpdateParams&, int t, int n);
  void (*conv)(const Conv1dParams&, bool stream, int t, int n);  // stream: fp32 out, streaming stores
};

// The kernels of the SIMD level and vector width in effect (ssm.cpp).
const SsmKernels& ssm_kernels();
const SsmKernels& ssm_kernels_zmm();
const SsmKernels& ssm_kernels_ymm();
const SsmKernels& ssm_kernels_avx2();
const SsmKernels& ssm_kernels_scalar();

}  // namespace subq::cpu
