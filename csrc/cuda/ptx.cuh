// The PTX instructions the kernels use, behind small functions: inline asm on
// the GPU, a warp-collective twin under the SIMT emulator. The twins rebuild the
// tiles from the fragment layouts of the PTX ISA ("Matrix fragments for
// mma.m16n8k16", "... mma.m16n8k32", "... mma.m16n8k64", "ldmatrix"); those
// layouts must be confirmed once on a real GPU (test/native runs the same cases
// on the device).
//
// Fragment layouts (lane = 4 * group + t):
//   A 16x16 row-major, 4 regs of 2 elements: reg i holds row group + 8*(i%2),
//     columns 2t + 8*(i/2) + {0,1}.
//   B 16x8 (k x n), 2 regs: reg i holds rows 2t + 8*i + {0,1}, column group.
//   C/D 16x8 fp32, 4 values: value i is row group + 8*(i/2), column 2t + i%2.
//   Integer mma (m16n8k32 .s8 or .u8.s8 (A unsigned), m16n8k64 .s4; E = 32 / bits
//     elements per register, element e in bits [bits * e, bits * (e + 1)), two's
//     complement, or unsigned for .u8):
//     A 16xK row-major, 4 regs: reg i holds row group + 8*(i%2), columns
//       E*t + 4E*(i/2) + e.
//     B Kx8 (k x n), 2 regs: reg i holds rows E*t + 4E*i + e, column group.
//     C/D 16x8 s32, as the fp32 C/D above.
//   ldmatrix: lanes 8m..8m+7 give the row addresses of 8x8 matrix m; each lane
//     receives row lane/4, columns 2*(lane%4) + {0,1} of every matrix (.trans:
//     rows 2*(lane%4) + {0,1} of column lane/4).
#pragma once
#include <cstdint>

#include "numeric.cuh"

namespace subq::cuda::ptx {

#if SIMT_EMULATED
#define SUBQ_PTX_SITE , std::source_location at = std::source_location::current()
#else
#define SUBQ_PTX_SITE
#endif

// D = A * B + C, fp16 or bf16 inputs, fp32 accumulation.
template <bool BF16>
SUBQ_DEVICE void mma_m16n8k16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1 SUBQ_PTX_SITE) {
#if defined(__CUDA_ARCH__)
  if constexpr (BF16)
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  else
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#elif SIMT_EMULATED
  struct Frag { uint32_t a[4], b[2]; };
  const Frag* all = simt::warp_exchange(Frag{{a[0], a[1], a[2], a[3]}, {b0, b1}}, 0xffffffffu, at);
  auto half = [](uint32_t r, int hi) { return half_bits_to_float<BF16>(uint16_t(r >> (16 * hi))); };
  auto A = [&](int r, int k) { return half(all[(r % 8) * 4 + (k % 8) / 2].a[r / 8 + 2 * (k / 8)], k % 2); };
  auto B = [&](int k, int n) { return half(all[n * 4 + (k % 8) / 2].b[k / 8], k % 2); };
  const int lane = int(simt::lane_id()), g = lane / 4, t = lane % 4;
  for (int i = 0; i < 4; ++i) {
    const int r = g + 8 * (i / 2), n = 2 * t + i % 2;
    float acc = d[i];
    for (int k = 0; k < 16; ++k) acc += A(r, k) * B(k, n);  // products of 16-bit floats are exact in fp32
    d[i] = acc;
  }
#endif
}

// D = A * B: the first step of an accumulation, with C zero in the instruction itself
// (no zeroed accumulator registers to set up before it).
template <bool BF16>
SUBQ_DEVICE void mma_m16n8k16_first(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1 SUBQ_PTX_SITE) {
#if defined(__CUDA_ARCH__)
  if constexpr (BF16)
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%10,%10,%10,%10};"
                 : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1), "f"(0.f));
  else
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%10,%10,%10,%10};"
                 : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1), "f"(0.f));
#elif SIMT_EMULATED
  d[0] = d[1] = d[2] = d[3] = 0.f;
  mma_m16n8k16<BF16>(d, a, b0, b1, at);
#endif
}

#if SIMT_EMULATED
namespace detail {
// The integer mma of the fragment layouts above, lane by lane: BITS-bit elements, A's
// unsigned when UA (the .u8 form), B's signed; s32 accumulation, wrapping.
template <int BITS, bool UA>
void mma_int_emulated(int32_t (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1, std::source_location at) {
  constexpr int E = 32 / BITS, K = 8 * E;
  struct Frag { uint32_t a[4], b[2]; };
  const Frag* all = simt::warp_exchange(Frag{{a[0], a[1], a[2], a[3]}, {b0, b1}}, 0xffffffffu, at);
  // Element e of a register, sign- or zero-extended.
  auto elem = [](uint32_t r, int e, bool is_unsigned) {
    return is_unsigned ? int32_t((r >> (BITS * e)) & ((1u << BITS) - 1)) : int32_t(r << (32 - BITS * (e + 1))) >> (32 - BITS);
  };
  auto A = [&](int r, int k) { return elem(all[(r % 8) * 4 + (k % (4 * E)) / E].a[r / 8 + 2 * (k / (4 * E))], k % E, UA); };
  auto B = [&](int k, int n) { return elem(all[n * 4 + (k % (4 * E)) / E].b[k / (4 * E)], k % E, false); };
  const int lane = int(simt::lane_id()), g = lane / 4, t = lane % 4;
  for (int i = 0; i < 4; ++i) {
    const int r = g + 8 * (i / 2), n = 2 * t + i % 2;
    uint32_t acc = uint32_t(d[i]);
    for (int k = 0; k < K; ++k) acc += uint32_t(A(r, k) * B(k, n));
    d[i] = int32_t(acc);
  }
}
}  // namespace detail
#endif

// D = A * B + C on signed integers, s32 accumulation (wrapping, no .satfinite):
// BITS 8 is m16n8k32 .s8, BITS 4 is m16n8k64 .s4.
template <int BITS>
SUBQ_DEVICE void mma_int(int32_t (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1 SUBQ_PTX_SITE) {
  static_assert(BITS == 8 || BITS == 4);
#if defined(__CUDA_ARCH__)
  if constexpr (BITS == 8)
    asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  else
    asm volatile("mma.sync.aligned.m16n8k64.row.col.s32.s4.s4.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#elif SIMT_EMULATED
  detail::mma_int_emulated<BITS, false>(d, a, b0, b1, at);
#endif
}

// D = A * B + C with A unsigned and B signed 8-bit (m16n8k32 .u8.s8), s32 accumulation,
// wrapping; the fragment layouts of the .s8 form.
SUBQ_DEVICE void mma_u8s8(int32_t (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1 SUBQ_PTX_SITE) {
#if defined(__CUDA_ARCH__)
  asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.u8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
               : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#elif SIMT_EMULATED
  detail::mma_int_emulated<8, true>(d, a, b0, b1, at);
#endif
}

// Loads X 8x8 matrices of 16-bit elements from shared memory; `row` is this
// lane's row address (lanes 0..8X-1 are used), 16-byte aligned.
template <int X, bool Trans>
SUBQ_DEVICE void ldmatrix(uint32_t (&r)[X], const void* row SUBQ_PTX_SITE) {
  static_assert(X == 1 || X == 2 || X == 4);
#if defined(__CUDA_ARCH__)
  const uint32_t s = static_cast<uint32_t>(__cvta_generic_to_shared(row));
  if constexpr (X == 1 && !Trans) asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];" : "=r"(r[0]) : "r"(s));
  if constexpr (X == 1 && Trans) asm volatile("ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%0}, [%1];" : "=r"(r[0]) : "r"(s));
  if constexpr (X == 2 && !Trans)
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];" : "=r"(r[0]), "=r"(r[1]) : "r"(s));
  if constexpr (X == 2 && Trans)
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0,%1}, [%2];" : "=r"(r[0]), "=r"(r[1]) : "r"(s));
  if constexpr (X == 4 && !Trans)
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(s));
  if constexpr (X == 4 && Trans)
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(s));
#elif SIMT_EMULATED
  const int lane = int(simt::lane_id());
  if (lane < 8 * X) {
    simt::check_shared(row, 16, at);
    if (reinterpret_cast<uintptr_t>(row) % 16) throw simt::Error("ldmatrix row address not 16-byte aligned at " + simt::detail::where(at));
  }
  const void* const* rows = simt::warp_exchange(row, 0xffffffffu, at);
  auto elem = [&](int m, int rr, int c) { return static_cast<const uint16_t*>(rows[8 * m + rr])[c]; };
  for (int m = 0; m < X; ++m) {
    const uint16_t lo = Trans ? elem(m, 2 * (lane % 4), lane / 4) : elem(m, lane / 4, 2 * (lane % 4));
    const uint16_t hi = Trans ? elem(m, 2 * (lane % 4) + 1, lane / 4) : elem(m, lane / 4, 2 * (lane % 4) + 1);
    r[m] = uint32_t(lo) | uint32_t(hi) << 16;
  }
#endif
}

// 16 bytes global -> shared, asynchronously; !valid writes 16 zero bytes (src unread).
SUBQ_DEVICE void cp_async_16(void* smem, const void* gmem, bool valid SUBQ_PTX_SITE) {
#if defined(__CUDA_ARCH__)
  const uint32_t s = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(s), "l"(gmem), "r"(valid ? 16 : 0));
#elif SIMT_EMULATED
  simt::check_shared(smem, 16, at);
  if (reinterpret_cast<uintptr_t>(smem) % 16 || (valid && reinterpret_cast<uintptr_t>(gmem) % 16))
    throw simt::Error("cp.async with an address not 16-byte aligned at " + simt::detail::where(at));
  simt::async_copy(smem, gmem, 16, !valid);
#endif
}

// 16 bytes global -> shared at byte OFFSET past `smem`, asynchronously, always valid: the
// offset rides in the instruction, so the chunks of a tile share one shared address.
template <int OFFSET>
SUBQ_DEVICE void cp_async_16_at(void* smem, const void* gmem SUBQ_PTX_SITE) {
#if defined(__CUDA_ARCH__)
  const uint32_t s = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0+%2], [%1], 16;" ::"r"(s), "l"(gmem), "n"(OFFSET));
#elif SIMT_EMULATED
  cp_async_16(static_cast<char*>(smem) + OFFSET, gmem, true, at);
#endif
}

SUBQ_DEVICE void cp_async_commit() {
#if defined(__CUDA_ARCH__)
  asm volatile("cp.async.commit_group;");
#elif SIMT_EMULATED
  simt::async_commit();
#endif
}

// Waits until at most N committed groups are still in flight.
template <int N>
SUBQ_DEVICE void cp_async_wait() {
#if defined(__CUDA_ARCH__)
  asm volatile("cp.async.wait_group %0;" ::"n"(N));
#elif SIMT_EMULATED
  simt::async_wait(N);
#endif
}

// Shuffles of fp32 values for the scans, written on .f32 registers (shfl.sync takes any
// 32-bit register), the lane test folded into the shuffle's own predicate.

// v of lane `src`.
SUBQ_DEVICE float shfl_idx(float v, int src SUBQ_PTX_SITE) {
#if defined(__CUDA_ARCH__)
  float r;
  asm volatile("shfl.sync.idx.b32 %0, %1, %2, 31, -1;" : "=f"(r) : "f"(v), "r"(src));
  return r;
#elif SIMT_EMULATED
  return __shfl_sync(0xffffffffu, v, src, 32, at);
#else
  return v;
#endif
}

// v of the lane `delta` below; `own` on lanes below delta.
SUBQ_DEVICE float shfl_up_or(float v, unsigned delta, float own SUBQ_PTX_SITE) {
#if defined(__CUDA_ARCH__)
  float r;
  asm volatile(
      "{\n\t.reg .pred p;\n\t.reg .f32 t;\n\t"
      "shfl.sync.up.b32 t|p, %1, %2, 0, -1;\n\t"
      "selp.f32 %0, t, %3, p;\n\t}"
      : "=f"(r)
      : "f"(v), "r"(delta), "f"(own));
  return r;
#elif SIMT_EMULATED
  const float t = __shfl_up_sync(0xffffffffu, v, delta, 32, at);
  return simt::lane_id() >= delta ? t : own;
#else
  return own;
#endif
}

// One step of a warp scan of affine maps x -> a*x + b: on lanes >= delta, (a, b) becomes
// the map of the lane `delta` below followed by this lane's: (a*a', a*b' + b).
SUBQ_DEVICE void affine_scan_step(float& a, float& b, unsigned delta SUBQ_PTX_SITE) {
#if defined(__CUDA_ARCH__)
  asm volatile(
      "{\n\t.reg .pred p;\n\t.reg .f32 ta, tb;\n\t"
      "shfl.sync.up.b32 ta|p, %0, %2, 0, -1;\n\t"
      "shfl.sync.up.b32 tb, %1, %2, 0, -1;\n\t"
      "@p fma.rn.f32 %1, %0, tb, %1;\n\t"
      "@p mul.f32 %0, %0, ta;\n\t}"
      : "+f"(a), "+f"(b)
      : "r"(delta));
#elif SIMT_EMULATED
  const float ta = __shfl_up_sync(0xffffffffu, a, delta, 32, at), tb = __shfl_up_sync(0xffffffffu, b, delta, 32, at);
  if (simt::lane_id() >= delta) b = fmaf(a, tb, b), a *= ta;
#endif
}

#undef SUBQ_PTX_SITE

}  // namespace subq::cuda::ptx
