#include "cpu_features.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define SUBQ_X86 1
#endif

#include "env_warnings.h"

namespace subq {

static CpuFeatures detect() {
  CpuFeatures f;
#ifdef SUBQ_X86
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27);
  f.fma = c & (1u << 12);
  f.f16c = c & (1u << 29);
  if (!osxsave) return f;
  unsigned xlo, xhi;
  __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
  const bool ymm_os = (xlo & 0x6) == 0x6;
  const bool zmm_os = (xlo & 0xE6) == 0xE6;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  f.avx2 = ymm_os && (b & (1u << 5));
  f.avx512f = zmm_os && (b & (1u << 16));
  f.avx512dq = zmm_os && (b & (1u << 17));
  f.avx512bw = zmm_os && (b & (1u << 30));
  f.avx512vl = zmm_os && (b & (1u << 31));
  f.avx512vnni = zmm_os && (c & (1u << 11));
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) f.avx512bf16 = zmm_os && (a & (1u << 5));
  if (!ymm_os) f.fma = f.f16c = false;
#endif
  return f;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

static SimdLevel hardware_level() {
  const CpuFeatures& f = cpu_features();
  if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.fma && f.f16c) return SimdLevel::AVX512;
  if (f.avx2 && f.fma && f.f16c) return SimdLevel::AVX2;
  return SimdLevel::Scalar;
}

static SimdLevel initial_level() {
  SimdLevel hw = hardware_level();
  const char* env = std::getenv("SUBQ_SIMD");
  if (!env) return hw;
  SimdLevel want = hw;
  if (!std::strcmp(env, "scalar")) want = SimdLevel::Scalar;
  else if (!std::strcmp(env, "avx2")) want = SimdLevel::AVX2;
  else if (!std::strcmp(env, "avx512")) want = SimdLevel::AVX512;
  else env_warning("SUBQ_SIMD", env, "expected scalar, avx2 or avx512; using the best level of this CPU");
  return want < hw ? want : hw;
}

static std::atomic<int>& level_slot() {
  static std::atomic<int> level{static_cast<int>(initial_level())};
  return level;
}

SimdLevel simd_level() { return static_cast<SimdLevel>(level_slot().load(std::memory_order_relaxed)); }

void set_simd_level(SimdLevel level) {
  SimdLevel hw = hardware_level();
  level_slot().store(static_cast<int>(level < hw ? level : hw));
}

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::AVX512: return "avx512";
    case SimdLevel::AVX2: return "avx2";
    default: return "scalar";
  }
}

}  // namespace subq
