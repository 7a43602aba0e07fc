// Which SIMD level the CPU kernels may use, decided once at run time.
// SUBQ_SIMD=scalar|avx2|avx512 lowers (never raises) the detected level.
#pragma once

namespace subq {

enum class SimdLevel { Scalar = 0, AVX2 = 1, AVX512 = 2 };

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false, avx512bf16 = false;
  bool avx512vnni = false;  // vpdpbusd (quantized attention's Q.K^T)
};

const CpuFeatures& cpu_features();
SimdLevel simd_level();
void set_simd_level(SimdLevel level);  // clamped to what the CPU supports
const char* simd_level_name(SimdLevel level);

}  // namespace subq
