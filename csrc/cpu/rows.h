// Scratch memory, row and element access in fp32 for tensors of any float dtype.
//
// Everything here has internal linkage, and the kernel headers use no standard
// library templates: they are compiled once per ISA, and a shared inline function
// compiled with AVX-512 flags could otherwise be the copy the linker keeps for the
// portable code.
#pragma once
#include <cstdint>
#include <cstring>

#include "../core/half.h"
#include "../core/tensor.h"

namespace subq::cpu {
namespace {

// Zeroed fp32 scratch, owned.
struct Buf {
  float* p = nullptr;
  Buf() = default;
  explicit Buf(int64_t n) : p(new float[size_t(n > 0 ? n : 1)]()) {}
  ~Buf() { delete[] p; }
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  void reset(int64_t n) {
    delete[] p;
    p = new float[size_t(n > 0 ? n : 1)]();
  }
  float& operator[](int64_t i) { return p[i]; }
  float* data() { return p; }
};

inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

inline void fill(float* p, int64_t n, float v) {
  for (int64_t i = 0; i < n; ++i) p[i] = v;
}

inline void read_row(const TensorView& t, int64_t off, int64_t n, float* dst) {
  if (t.dtype == DType::F32) std::memcpy(dst, t.ptr<float>() + off, size_t(n) * sizeof(float));
  else half_to_f32(t.dtype, t.ptr<uint16_t>() + off, dst, n);
}

inline void write_row(const TensorView& t, int64_t off, int64_t n, const float* src) {
  if (t.dtype == DType::F32) std::memcpy(t.ptr<float>() + off, src, size_t(n) * sizeof(float));
  else f32_to_half(t.dtype, src, t.ptr<uint16_t>() + off, n);
}

inline float read_elem(const TensorView& t, int64_t off) {
  float v;
  read_row(t, off, 1, &v);
  return v;
}

}  // namespace
}  // namespace subq::cpu
