// Scratch memory, row and element access in fp32 for tensors of any float dtype; the row
// steps of the micro-kernels (R rows at a time, then a compile-time tail) and the line
// prefetch of the decode kernels.
//
// Everything here has internal linkage, and the kernel headers use no standard
// library templates: they are compiled once per ISA, and a shared inline function
// compiled with AVX-512 flags could otherwise be the copy the linker keeps for the
// portable code.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "../core/half.h"
#include "../core/host_blocks.h"
#include "../core/tensor.h"

namespace subq::cpu {
namespace {

// The one fp32 scratch type of the CPU backend: core/host_blocks.h's HostMemory (a cached
// 2 MiB-page block from 1 MiB on, else the heap; cache-line aligned: a vector loop over a
// buffer at new[]'s 16-byte alignment splits every 64-byte access across two lines),
// zeroed unless asked not to be. Scratch is allocated per call; the block cache keeps it
// warm whichever thread runs a call (an async call's threads got fresh pages from the C
// heap on every call: glibc gave a worker's arena a new heap each time and unmapped it
// after, about 6% of an attention call's CPU time).
struct Buf {
  enum Init { kZero, kUninit };
  float* p = nullptr;
  Buf() = default;
  explicit Buf(int64_t n, Init init = kZero) { reset(n, init); }
  Buf(Buf&& o) noexcept { *this = static_cast<Buf&&>(o); }
  Buf& operator=(Buf&& o) noexcept {
    mem_ = static_cast<HostMemory&&>(o.mem_);
    p = o.p, o.p = nullptr;
    return *this;
  }
  void reset(int64_t n, Init init = kZero) {
    mem_ = HostMemory();  // the old memory back first: the new one may be the same block
    mem_ = HostMemory(size_t(n > 0 ? n : 1) * sizeof(float), init == kZero);
    p = reinterpret_cast<float*>(mem_.data());
  }
  float& operator[](int64_t i) { return p[i]; }
  const float& operator[](int64_t i) const { return p[i]; }
  float* data() { return p; }
  const float* data() const { return p; }
  explicit operator bool() const { return p != nullptr; }

 private:
  HostMemory mem_;
};

inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

inline void fill(float* p, int64_t n, float v) {
  for (int64_t i = 0; i < n; ++i) p[i] = v;
}

// Vector copy of n floats with vector type V (memcpy's rep movs is slow on rows of
// a few hundred floats on some CPUs).
template <class V>
inline void copy_floats(const float* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + V::W <= n; i += V::W) V::store(dst + i, V::load(src + i));
  if (i < n) V::store_n(dst + i, V::load_n(src + i, int(n - i)), int(n - i));
}

// copy_floats with streaming stores (no read of the destination lines) for every
// whole 64-byte line of dst; a float-misaligned dst gets plain stores.
template <class V>
inline void stream_floats(const float* src, float* dst, int64_t n) {
  const uintptr_t at = reinterpret_cast<uintptr_t>(dst);
  int64_t i = at % 4 ? n : imin(n, int64_t((64 - at % 64) % 64 / 4));
  copy_floats<V>(src, dst, i);
  for (; i + V::W <= n; i += V::W) V::stream(dst + i, V::load(src + i));
  copy_floats<V>(src + i, dst + i, n - i);
}

template <class V>
inline void read_row(const TensorView& t, int64_t off, int64_t n, float* dst) {
  if (t.dtype == DType::F32) copy_floats<V>(t.ptr<float>() + off, dst, n);
  else half_to_f32(t.dtype, t.ptr<uint16_t>() + off, dst, n);
}

template <class V>
inline void write_row(const TensorView& t, int64_t off, int64_t n, const float* src) {
  if (t.dtype == DType::F32) copy_floats<V>(src, t.ptr<float>() + off, n);
  else f32_to_half(t.dtype, src, t.ptr<uint16_t>() + off, n);
}

// Row `off` of t (n values) in fp32: in place when t is fp32, else converted into buf.
inline const float* row_f32(const TensorView& t, int64_t off, int64_t n, float* buf) {
  if (t.dtype == DType::F32) return t.ptr<float>() + off;
  half_to_f32(t.dtype, t.ptr<uint16_t>() + off, buf, n);
  return buf;
}

inline float read_elem(const TensorView& t, int64_t off) {
  float v;
  if (t.dtype == DType::F32) v = t.ptr<float>()[off];
  else half_to_f32(t.dtype, t.ptr<uint16_t>() + off, &v, 1);
  return v;
}

// ---- Row steps of the micro-kernels.

// A micro-kernel's row count as a type, for the generic lambdas of by_rows.
template <int R>
struct RowsOf {
  static constexpr int value = R;
};

// Calls f(RowsOf<n>) for n rows, 1 <= n <= R (R for more): a kernel compiled per row
// count keeps its rows' sums in registers.
template <int R, class F>
inline void as_rows(int64_t n, F&& f) {
  if constexpr (R > 1)
    if (n < R) return as_rows<R - 1>(n, f);
  f(RowsOf<R>{});
}

// Calls f(RowsOf<R>, r0) on rows [0, rows): R at a time, then the rest in one call of
// its own height.
template <int R, class F>
inline void by_rows(int64_t rows, F&& f) {
  int64_t r = 0;
  for (; r + R <= rows; r += R) f(RowsOf<R>{}, r);
  if constexpr (R > 1)
    if (r < rows) as_rows<R - 1>(rows - r, [&](auto n) { f(n, r); });
}

// ---- Prefetch of the decode kernels (docs/cpu-kernels.md, Decode).

// Each line of a K or V row is read with a prefetch of the same line kAheadKeys keys on:
// the misses are spread over the work at one per line read, so the core keeps reading from
// memory while it computes. Asked for all at once each step, they queued behind each other
// and the core waited; with none, a thread's stream waits on each line in turn.
constexpr int64_t kAheadKeys = 64;

// The distance in keys for reading keys [at, at + n) of a range of nk keys that ends at
// end: kAheadKeys, held where the range ends; none for a short range (a chunk already in
// cache: the dequantized rows of a quantized cache).
inline int64_t ahead_keys(int64_t nk, int64_t at, int64_t n, int64_t end) {
  if (nk <= 2 * kAheadKeys) return 0;
  const int64_t left = end - n - at;
  return left < 0 ? 0 : imin(kAheadKeys, left);
}

// pf where element off of a row starts one of the row's 64-byte lines, else 0.
template <class E>
constexpr int64_t line_ahead(int64_t off, int64_t pf) {
  return off % int64_t(64 / sizeof(E)) == 0 ? pf : 0;
}

// The prefetch that goes with a load at p, element off of its row: the line pf elements on,
// where off starts one of the row's 64-byte lines (once per line read); pf = 0: none.
// Always inlined: GCC 12 takes a function that only prefetches for one without effects and
// deletes the calls it has not inlined early (no prefetch was left in the decode kernels).
template <class E>
[[gnu::always_inline]] inline void prefetch_line(const E* p, int64_t off, int64_t pf) {
  if (const int64_t at = line_ahead<E>(off, pf)) __builtin_prefetch(p + at);
}

}  // namespace
}  // namespace subq::cpu
