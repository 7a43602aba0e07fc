// The SIMT emulator's own tests: it must catch what the GPU would get wrong
// (a missing __syncthreads, a divergent barrier, an out-of-bounds shared write,
// a deadlock) and implement shuffles, ballot, atomics and the PTX twins exactly
// as the CUDA and PTX documentation define them.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../../csrc/core/half.h"
#include "../../csrc/cuda/ptx.cuh"
#include "harness.h"

namespace subq::test {

namespace {

using simt::Schedule;

// Runs fn under a thread order, then restores the order of the run (SIMT_SCHEDULE).
template <class F>
void with_schedule(Schedule s, uint64_t seed, F&& fn) {
  const Schedule before = simt::schedule();
  simt::set_schedule(s, seed);
  try {
    fn();
  } catch (...) {
    simt::set_schedule(before, seed);
    throw;
  }
  simt::set_schedule(before, seed);
}

// --- barriers and shared memory ---------------------------------------------

__global__ void shared_is_shared(int* out) {
  __shared__ int x;
  if (threadIdx.x == 0) x = 42;
  __syncthreads();
  out[threadIdx.x] = x;
}

// out[t] = in[t] + in[t + 1] through shared memory; `sync` decides whether the
// barrier between the write and the read is there.
__global__ void neighbour_sum(const int* in, int* out, bool sync) {
  __shared__ int s[128];
  s[threadIdx.x] = in[threadIdx.x];
  if (sync) __syncthreads();
  out[threadIdx.x] = s[threadIdx.x] + s[(threadIdx.x + 1) % 128];
}

int neighbour_errors(bool sync) {
  // Fresh values each call: static shared memory keeps the previous launch's data.
  static int salt = 0;
  ++salt;
  std::vector<int> in(128), out(128);
  for (int i = 0; i < 128; ++i) in[i] = i * 3 + salt * 1000;
  simt::launch(neighbour_sum, dim3(1), dim3(128), 0, in.data(), out.data(), sync);
  int bad = 0;
  for (int i = 0; i < 128; ++i) bad += out[i] != in[i] + in[(i + 1) % 128];
  return bad;
}

// Two counting barriers in a row: the second's count must not leak into the first's.
__global__ void count_votes(int* out) {
  const int a = __syncthreads_count(threadIdx.x % 3 == 0);
  const int b = __syncthreads_count(threadIdx.x < 5);
  out[threadIdx.x] = a * 1000 + b;
}

__global__ void divergent(int* out) {
  if (threadIdx.x < 64) __syncthreads();
  else __syncthreads();
  out[threadIdx.x] = 1;
}

__global__ void early_return(int* out) {
  __shared__ int s[128];
  if (threadIdx.x >= 100) return;
  s[threadIdx.x] = int(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = s[99 - threadIdx.x];
}

__global__ void deadlock(int* out) {
  if (threadIdx.x == 0) __syncthreads();
  else out[threadIdx.x] = __shfl_sync(0xffffffffu, int(threadIdx.x), 0);
}

__global__ void oob_shared_write(int n) {
  SIMT_DYNAMIC_SHARED(float, s);
  s[threadIdx.x * n / 32] = 1.f;  // thread 32 writes s[n]
}

__global__ void read_poison(uint32_t* out) {
  SIMT_DYNAMIC_SHARED(uint32_t, s);
  out[threadIdx.x] = s[threadIdx.x];
}

__global__ void record_order(int* order, int* next) {
  order[(*next)++] = int(threadIdx.x);
}

__global__ void block_index(int* out) {
  if (threadIdx.x == 0) out[blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z)] = int(blockDim.x);
}

// --- warp collectives and atomics ---------------------------------------------

__global__ void shuffles(int* out) {
  const int lane = int(threadIdx.x % 32), v = int(threadIdx.x) * 7 + 3;
  int* o = out + threadIdx.x * 8;
  o[0] = __shfl_sync(0xffffffffu, v, (lane * 5) % 32);
  o[1] = __shfl_sync(0xffffffffu, v, lane + 3, 16);
  o[2] = __shfl_xor_sync(0xffffffffu, v, 5);
  o[3] = __shfl_xor_sync(0xffffffffu, v, 9, 8);
  o[4] = __shfl_up_sync(0xffffffffu, v, 3);
  o[5] = __shfl_down_sync(0xffffffffu, v, 3, 16);
  o[6] = int(__ballot_sync(0xffffffffu, (v % 3) == 0));
  o[7] = __shfl_sync(0xffffffffu, float(v) * 0.5f, 31 - lane) == float(int(threadIdx.x / 32) * 32 + 31 - lane) * 3.5f + 1.5f;
}

// The CUDA programming guide's definitions, lane by lane.
int shfl_ref(const std::vector<int>& v, int warp, int lane, int src, int width) {
  return v[warp * 32 + (lane / width) * width + src % width];
}

__global__ void atomics(int* sum, float* fsum, int* mx, unsigned* cas_count) {
  atomicAdd(sum, int(threadIdx.x));
  atomicAdd(fsum, 0.5f);
  atomicMax(mx, int((threadIdx.x * 37 + blockIdx.x * 11) % 1000));
  unsigned old = *cas_count, seen;
  while ((seen = atomicCAS(cas_count, old, old + 1)) != old) old = seen;
}

// --- PTX twins ----------------------------------------------------------------

template <bool BF16>
__global__ void mma_kernel(const uint32_t* a, const uint32_t* b, float* d) {
  const int lane = int(threadIdx.x);
  const uint32_t af[4] = {a[lane * 4], a[lane * 4 + 1], a[lane * 4 + 2], a[lane * 4 + 3]};
  float acc[4] = {d[lane * 4], d[lane * 4 + 1], d[lane * 4 + 2], d[lane * 4 + 3]};
  subq::cuda::ptx::mma_m16n8k16<BF16>(acc, af, b[lane * 2], b[lane * 2 + 1]);
  for (int i = 0; i < 4; ++i) d[lane * 4 + i] = acc[i];
}

template <bool BF16>
void mma_test() {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-2, 2);
  auto bits = [](float x) { return BF16 ? f32_to_bf16(x) : f32_to_f16(x); };
  auto val = [](uint16_t h) { return double(BF16 ? bf16_to_f32(h) : f16_to_f32(h)); };
  uint16_t A[16][16], B[16][8];
  double C[16][8];
  for (auto& r : A) for (auto& x : r) x = bits(u(rng));
  for (auto& r : B) for (auto& x : r) x = bits(u(rng));
  for (auto& r : C) for (auto& x : r) x = u(rng);
  // Fragments from the PTX ISA layout (see ptx.cuh).
  std::vector<uint32_t> a(32 * 4), b(32 * 2);
  std::vector<float> d(32 * 4);
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane / 4, t = lane % 4;
    for (int i = 0; i < 4; ++i) {
      const int r = g + 8 * (i % 2), c = 2 * t + 8 * (i / 2);
      a[lane * 4 + i] = A[r][c] | uint32_t(A[r][c + 1]) << 16;
      d[lane * 4 + i] = float(C[g + 8 * (i / 2)][2 * t + i % 2]);
    }
    for (int i = 0; i < 2; ++i) {
      const int k = 2 * t + 8 * i;
      b[lane * 2 + i] = B[k][g] | uint32_t(B[k + 1][g]) << 16;
    }
  }
  simt::launch(mma_kernel<BF16>, dim3(1), dim3(32), 0, a.data(), b.data(), d.data());
  for (int lane = 0; lane < 32; ++lane)
    for (int i = 0; i < 4; ++i) {
      const int r = lane / 4 + 8 * (i / 2), n = 2 * (lane % 4) + i % 2;
      double want = C[r][n];
      for (int k = 0; k < 16; ++k) want += val(A[r][k]) * val(B[k][n]);
      check(std::abs(d[lane * 4 + i] - want) <= 1e-5 * (1 + std::abs(want)),
            "mma D[" + std::to_string(r) + "][" + std::to_string(n) + "] = " + std::to_string(d[lane * 4 + i]) +
                ", want " + std::to_string(want));
    }
}

template <int BITS, bool UA>
__global__ void mma_int_kernel(const uint32_t* a, const uint32_t* b, int32_t* d) {
  const int lane = int(threadIdx.x);
  const uint32_t af[4] = {a[lane * 4], a[lane * 4 + 1], a[lane * 4 + 2], a[lane * 4 + 3]};
  int32_t acc[4] = {d[lane * 4], d[lane * 4 + 1], d[lane * 4 + 2], d[lane * 4 + 3]};
  if constexpr (UA) subq::cuda::ptx::mma_u8s8(acc, af, b[lane * 2], b[lane * 2 + 1]);
  else subq::cuda::ptx::mma_int<BITS>(acc, af, b[lane * 2], b[lane * 2 + 1]);
  for (int i = 0; i < 4; ++i) d[lane * 4 + i] = acc[i];
}

// Integer mma: the fragments placed element by element as the PTX ISA's tables
// for m16n8k32 .s8 and m16n8k64 .s4 give them (E = 32 / BITS elements per
// register, element i of a thread's fragment in register i / E, bits BITS * (i % E)):
//   A element i (of 4E): row group + 8 * ((i / E) % 2), column E * t + i % E + (i >= 2E ? 4E : 0)
//   B element i (of 2E): row E * t + i % E + (i >= E ? 4E : 0), column group
// over the full signed range (-128 and -8 included), with an s32 accumulator; UA: A
// unsigned (.u8.s8), over [0, 255] with 255 times -128.
template <int BITS, bool UA = false>
void mma_int_test() {
  constexpr int E = 32 / BITS, K = 8 * E, lo = -(1 << (BITS - 1)), hi = (1 << (BITS - 1)) - 1;
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> u(lo, hi), ua(0, 255), uc(-100000, 100000);
  int A[16][K], B[K][8], C[16][8];
  for (auto& r : A) for (auto& x : r) x = UA ? ua(rng) : u(rng);
  for (auto& r : B) for (auto& x : r) x = u(rng);
  for (auto& r : C) for (auto& x : r) x = uc(rng);
  A[0][0] = UA ? 255 : lo, B[0][0] = lo;  // the extremes times each other
  const uint32_t mask = (1u << BITS) - 1;
  std::vector<uint32_t> a(32 * 4, 0), b(32 * 2, 0);
  std::vector<int32_t> d(32 * 4);
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane / 4, t = lane % 4;
    for (int i = 0; i < 4 * E; ++i) {
      const int r = g + 8 * ((i / E) % 2), c = E * t + i % E + (i >= 2 * E ? 4 * E : 0);
      a[lane * 4 + i / E] |= (uint32_t(A[r][c]) & mask) << (BITS * (i % E));
    }
    for (int i = 0; i < 2 * E; ++i) {
      const int k = E * t + i % E + (i >= E ? 4 * E : 0);
      b[lane * 2 + i / E] |= (uint32_t(B[k][g]) & mask) << (BITS * (i % E));
    }
    for (int i = 0; i < 4; ++i) d[lane * 4 + i] = C[g + 8 * (i / 2)][2 * t + i % 2];
  }
  simt::launch(mma_int_kernel<BITS, UA>, dim3(1), dim3(32), 0, a.data(), b.data(), d.data());
  for (int lane = 0; lane < 32; ++lane)
    for (int i = 0; i < 4; ++i) {
      const int r = lane / 4 + 8 * (i / 2), n = 2 * (lane % 4) + i % 2;
      int32_t want = C[r][n];
      for (int k = 0; k < K; ++k) want += A[r][k] * B[k][n];
      check(d[lane * 4 + i] == want, std::string(UA ? "mma u8.s8" : "mma s") + (UA ? "" : std::to_string(BITS)) + " D[" + std::to_string(r) + "][" +
                                         std::to_string(n) + "] = " + std::to_string(d[lane * 4 + i]) + ", want " +
                                         std::to_string(want));
    }
}

// A 32 x 40 shared matrix of 16-bit values v(r, c) = r * 64 + c; lane l points
// at row base_row + l, column `col0` (x1: 8 rows used, x2: 16, x4: 32).
template <int X, bool Trans>
__global__ void ldmatrix_kernel(uint32_t* out, int col0) {
  SIMT_DYNAMIC_SHARED(uint16_t, s);
  for (int i = int(threadIdx.x); i < 32 * 40; i += 32) s[i] = uint16_t((i / 40) * 64 + i % 40);
  __syncthreads();
  uint32_t r[X];
  subq::cuda::ptx::ldmatrix<X, Trans>(r, s + threadIdx.x * 40 + col0);
  for (int m = 0; m < X; ++m) out[threadIdx.x * 4 + m] = r[m];
}

template <int X, bool Trans>
void ldmatrix_test() {
  std::vector<uint32_t> out(32 * 4);
  simt::launch(ldmatrix_kernel<X, Trans>, dim3(1), dim3(32), 32 * 40 * 2, out.data(), 8);
  auto v = [](int row, int col) { return uint32_t(row * 64 + 8 + col); };  // element of the stored matrix
  for (int lane = 0; lane < 32; ++lane)
    for (int m = 0; m < X; ++m) {
      // Matrix m has rows 8m..8m+7 (the addresses of lanes 8m..8m+7).
      const int rr = lane / 4, cc = 2 * (lane % 4);
      const uint32_t lo = Trans ? v(8 * m + cc, rr) : v(8 * m + rr, cc);
      const uint32_t hi = Trans ? v(8 * m + cc + 1, rr) : v(8 * m + rr, cc + 1);
      check(out[lane * 4 + m] == (lo | hi << 16), "ldmatrix x" + std::to_string(X) + (Trans ? ".trans" : "") +
                                                      " lane " + std::to_string(lane) + " matrix " + std::to_string(m));
    }
}

__global__ void ldmatrix_out_of_bounds(uint32_t* out) {
  SIMT_DYNAMIC_SHARED(uint16_t, s);
  uint32_t r[4];
  subq::cuda::ptx::ldmatrix<4, false>(r, s + threadIdx.x * 8 + 8);  // lane 31 reads past the end
  out[threadIdx.x] = r[0];
}

// Two groups of cp.async; what is visible after wait_group 1 and 0.
__global__ void cp_async_kernel(const uint4* src, uint32_t* seen) {
  SIMT_DYNAMIC_SHARED(uint4, s);
  const int t = int(threadIdx.x);
  subq::cuda::ptx::cp_async_16(&s[t], &src[t], true);
  subq::cuda::ptx::cp_async_commit();
  subq::cuda::ptx::cp_async_16(&s[32 + t], &src[32 + t], t % 2 == 0);  // odd lanes: zero fill
  subq::cuda::ptx::cp_async_commit();
  seen[t * 4 + 0] = s[t].x;  // nothing waited for: still poisoned
  subq::cuda::ptx::cp_async_wait<1>();
  seen[t * 4 + 1] = s[t].x;        // first group landed
  seen[t * 4 + 2] = s[32 + t].x;   // second not yet
  subq::cuda::ptx::cp_async_wait<0>();
  seen[t * 4 + 3] = s[32 + t].x;
}

void register_all() {
  add("simt: __shared__ is one variable per block", [] {
    std::vector<int> out(64, 0);
    simt::launch(shared_is_shared, dim3(2), dim3(64), 0, out.data());
    for (int x : out) check(x == 42, "a thread saw its own copy of a __shared__ variable");
  });
  add("simt: a missing __syncthreads gives wrong results that depend on the thread order", [] {
    int normal = 0, reverse = 0, random = 0;
    with_schedule(Schedule::Normal, 1, [&] { normal = neighbour_errors(false); });
    with_schedule(Schedule::Reverse, 1, [&] { reverse = neighbour_errors(false); });
    with_schedule(Schedule::Random, 5, [&] { random = neighbour_errors(false); });
    check(normal != reverse, "normal and reverse orders gave the same number of errors: " + std::to_string(normal));
    check(reverse > 0 && random > 0, "the planted race went unnoticed");
    for (Schedule s : {Schedule::Normal, Schedule::Reverse, Schedule::Random})
      with_schedule(s, 9, [&] { check(neighbour_errors(true) == 0, "wrong result with the barrier in place"); });
  });
  add("simt: a divergent __syncthreads is an error naming both lines", [] {
    std::vector<int> out(128);
    expect_throw<simt::Error>([&] { simt::launch(divergent, dim3(1), dim3(128), 0, out.data()); }, "divergent __syncthreads");
    expect_throw<simt::Error>([&] { simt::launch(divergent, dim3(1), dim3(128), 0, out.data()); }, "simt_test.cpp:");
  });
  add("simt: __syncthreads_count counts the threads whose predicate holds", [] {
    for (Schedule s : {Schedule::Normal, Schedule::Reverse, Schedule::Random})
      with_schedule(s, 3, [&] {
        std::vector<int> out(100, -1);
        simt::launch(count_votes, dim3(2), dim3(100), 0, out.data());
        for (int x : out) check(x == 34 * 1000 + 5, "count " + std::to_string(x) + ", not 34005");
      });
  });
  add("simt: threads that return early leave the barrier", [] {
    std::vector<int> out(128, -1);
    simt::launch(early_return, dim3(1), dim3(128), 0, out.data());
    for (int i = 0; i < 100; ++i) check(out[i] == 99 - i, "wrong value after the barrier");
    check(out[100] == -1, "a returned thread wrote");
  });
  add("simt: a deadlock is reported with each waiting thread's line", [] {
    std::vector<int> out(64);
    expect_throw<simt::Error>([&] { simt::launch(deadlock, dim3(1), dim3(64), 0, out.data()); }, "deadlock");
    try {
      simt::launch(deadlock, dim3(1), dim3(64), 0, out.data());
    } catch (const simt::Error& e) {
      const std::string m = e.what();
      check(m.find("at __syncthreads") != std::string::npos && m.find("at a warp collective") != std::string::npos,
            "deadlock report lacks the waiting sites: " + m);
    }
  });
  add("simt: an out-of-bounds shared-memory write is caught", [] {
    simt::launch(oob_shared_write, dim3(1), dim3(32), 32 * 4, 31);  // in bounds
    expect_throw<simt::Error>([] { simt::launch(oob_shared_write, dim3(1), dim3(33), 32 * 4, 32); }, "out-of-bounds write");
    std::vector<uint32_t> out(32);
    expect_throw<simt::Error>([&] { simt::launch(ldmatrix_out_of_bounds, dim3(1), dim3(32), 256 * 2, out.data()); },
                              "outside the 512 bytes");
  });
  add("simt: dynamic shared memory starts poisoned (NaN)", [] {
    std::vector<uint32_t> out(32);
    simt::launch(read_poison, dim3(1), dim3(32), 32 * 4, out.data());
    for (uint32_t x : out) check(x == 0xffffffffu, "dynamic shared memory not poisoned");
  });
  add("simt: thread orders", [] {
    std::vector<int> order(64);
    int next = 0;
    with_schedule(Schedule::Reverse, 1, [&] { simt::launch(record_order, dim3(1), dim3(64), 0, order.data(), &next); });
    check(order[0] == 63 && order[63] == 0, "reverse order does not start at the last thread");
    next = 0;
    with_schedule(Schedule::Normal, 1, [&] { simt::launch(record_order, dim3(1), dim3(64), 0, order.data(), &next); });
    check(order[0] == 0 && order[63] == 63, "normal order does not start at thread 0");
    std::vector<int> a(64), b(64), c(64);
    for (auto* o : {&a, &b}) {
      next = 0;
      with_schedule(Schedule::Random, 3, [&] { simt::launch(record_order, dim3(1), dim3(64), 0, o->data(), &next); });
    }
    next = 0;
    with_schedule(Schedule::Random, 4, [&] { simt::launch(record_order, dim3(1), dim3(64), 0, c.data(), &next); });
    check(a == b, "a seeded random order is not reproducible");
    check(a != c && a != order, "random orders do not differ by seed");
  });
  add("simt: grid and block indices", [] {
    std::vector<int> out(2 * 3 * 4, 0);
    simt::launch(block_index, dim3(2, 3, 4), dim3(5, 2), 0, out.data());
    for (int x : out) check(x == 5, "a block did not run");
  });
  add("simt: shuffles and ballot match their definitions", [] {
    std::vector<int> out(64 * 8);
    simt::launch(shuffles, dim3(1), dim3(64), 0, out.data());
    std::vector<int> v(64);
    for (int i = 0; i < 64; ++i) v[i] = i * 7 + 3;
    for (int t = 0; t < 64; ++t) {
      const int w = t / 32, l = t % 32;
      const int* o = &out[t * 8];
      check(o[0] == shfl_ref(v, w, l, (l * 5) % 32, 32), "__shfl_sync");
      check(o[1] == shfl_ref(v, w, l, l + 3, 16), "__shfl_sync width 16");
      check(o[2] == v[w * 32 + (l ^ 5)], "__shfl_xor_sync");
      check(o[3] == (((l ^ 9) / 8 == l / 8) ? v[w * 32 + (l ^ 9)] : v[t]), "__shfl_xor_sync width 8");
      check(o[4] == (l >= 3 ? v[t - 3] : v[t]), "__shfl_up_sync");
      check(o[5] == (l % 16 + 3 < 16 ? v[t + 3] : v[t]), "__shfl_down_sync width 16");
      unsigned bits = 0;
      for (int i = 0; i < 32; ++i) bits |= unsigned(v[w * 32 + i] % 3 == 0) << i;
      check(unsigned(o[6]) == bits, "__ballot_sync");
      check(o[7] == 1, "__shfl_sync of a float");
    }
  });
  add("simt: atomics", [] {
    int sum = 0, mx = -1;
    float fsum = 0;
    unsigned cas = 0;
    simt::launch(atomics, dim3(3), dim3(96), 0, &sum, &fsum, &mx, &cas);
    int want_max = 0;
    for (int b = 0; b < 3; ++b)
      for (int t = 0; t < 96; ++t) want_max = std::max(want_max, (t * 37 + b * 11) % 1000);
    check(sum == 3 * 95 * 96 / 2, "atomicAdd int");
    check(fsum == 3 * 96 * 0.5f, "atomicAdd float");
    check(mx == want_max, "atomicMax");
    check(cas == 3 * 96, "atomicCAS loop");
  });
  add("ptx: mma.m16n8k16 fp16 matches the scalar product", [] { mma_test<false>(); });
  add("ptx: mma.m16n8k16 bf16 matches the scalar product", [] { mma_test<true>(); });
  add("ptx: mma.m16n8k32 s8 matches the integer product", [] { mma_int_test<8>(); });
  add("ptx: mma.m16n8k64 s4 matches the integer product", [] { mma_int_test<4>(); });
  add("ptx: mma.m16n8k32 u8.s8 matches the integer product", [] { mma_int_test<8, true>(); });
  add("ptx: ldmatrix x1", [] { ldmatrix_test<1, false>(); });
  add("ptx: ldmatrix x2", [] { ldmatrix_test<2, false>(); });
  add("ptx: ldmatrix x4", [] { ldmatrix_test<4, false>(); });
  add("ptx: ldmatrix x1.trans", [] { ldmatrix_test<1, true>(); });
  add("ptx: ldmatrix x2.trans", [] { ldmatrix_test<2, true>(); });
  add("ptx: ldmatrix x4.trans", [] { ldmatrix_test<4, true>(); });
  add("ptx: cp.async lands at wait_group, zero-fills invalid sources", [] {
    std::vector<uint32_t> src(64 * 4), seen(32 * 4);
    for (size_t i = 0; i < src.size(); ++i) src[i] = uint32_t(i + 1);
    simt::launch(cp_async_kernel, dim3(1), dim3(32), 64 * 16, reinterpret_cast<const uint4*>(src.data()), seen.data());
    for (int t = 0; t < 32; ++t) {
      check(seen[t * 4 + 0] == 0xffffffffu, "cp.async landed before any wait");
      check(seen[t * 4 + 1] == src[t * 4], "cp.async group 1 missing after wait_group 1");
      check(seen[t * 4 + 2] == 0xffffffffu, "cp.async group 2 landed early");
      check(seen[t * 4 + 3] == (t % 2 == 0 ? src[(32 + t) * 4] : 0u), "cp.async group 2 after wait_group 0");
    }
  });
}

}  // namespace

void register_simt_tests() { register_all(); }

}  // namespace subq::test
