// SIMT emulation: the csrc/cuda kernel sources compiled by the host C++ compiler
// and run on the CPU, so they are tested on machines without a GPU (docs/simt.md).
//
// Under nvcc (__CUDACC__) this header only defines the two portability macros
// that plain CUDA syntax cannot give:
//   SIMT_DYNAMIC_SHARED(T, name)  -> T* name pointing at the block's dynamic shared memory
//   SIMT_LAUNCH(kernel, grid, block, smem_bytes, stream, args...)
// Elsewhere it emulates the CUDA execution model:
//   - each thread of a block is a fiber (a hand-written x86-64 context switch); a
//     round-robin scheduler on the launching thread runs it until it blocks;
//   - blocks run one after another, so `__shared__` is `static` storage;
//   - __syncthreads (and __syncthreads_count) is a barrier that records each thread's
//     call site and reports a divergent barrier; threads that return drop out of
//     later barriers;
//   - warp collectives (shuffles, ballot, the PTX twins in csrc/cuda/ptx.cuh) publish
//     into a per-warp exchange buffer and meet at a warp barrier;
//   - when every live thread waits, the launch fails with each thread's line;
//   - dynamic shared memory is poisoned (0xff: NaN in fp32/fp16/bf16) before each
//     block and guarded by canaries that catch out-of-bounds writes, and the PTX
//     twins bounds-check their shared addresses (static __shared__ arrays are not
//     checked: the csrc/cuda kernels keep their tiles in dynamic shared memory);
//   - cp.async copies land only at the wait that covers them;
//   - threads run in normal, reverse or seeded random order (SIMT_SCHEDULE=
//     normal|reverse|random[:seed], or simt::set_schedule) to expose missing barriers.
// Every failure is a simt::Error thrown from the launch.
#pragma once

#if defined(__CUDACC__)

#define SIMT_EMULATED 0
#define SIMT_DYNAMIC_SHARED(T, name)                      \
  extern __shared__ __align__(16) unsigned char simt_dynamic_smem_[]; \
  T* name = reinterpret_cast<T*>(simt_dynamic_smem_)
#define SIMT_LAUNCH(kernel, grid, block, smem, stream, ...) kernel<<<(grid), (block), (smem), (stream)>>>(__VA_ARGS__)

#else  // emulation

#include <sys/mman.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <random>
#include <source_location>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#define SIMT_EMULATED 1

// CUDA headers (crt/host_defines.h) define these as empty for host compilers;
// __shared__ must become `static` whatever came first.
#ifdef __shared__
#undef __shared__
#endif
#define __shared__ static
#ifndef __device__
#define __device__
#endif
#ifndef __host__
#define __host__
#endif
#ifndef __global__
#define __global__
#endif
#ifndef __forceinline__
#define __forceinline__ inline __attribute__((always_inline))
#endif
#ifndef __restrict__
#define __restrict__ __restrict
#endif
#ifndef __launch_bounds__
#define __launch_bounds__(...)
#endif
#ifndef __align__
#define __align__(n) alignas(n)
#endif

#define SIMT_STR2_(x) #x
#define SIMT_STR_(x) SIMT_STR2_(x)
namespace simt::detail {
constexpr bool same_text(const char* a, const char* b) {
  while (*a && *a == *b) ++a, ++b;
  return *a == *b;
}
}  // namespace simt::detail
// The probe: a __shared__ array that silently became a per-thread local would
// make every shared-memory test meaningless.
static_assert(simt::detail::same_text(SIMT_STR_(__shared__), "static"), "__shared__ must expand to static");

#define SIMT_DYNAMIC_SHARED(T, name) T* name = reinterpret_cast<T*>(::simt::dynamic_shared())
#define SIMT_LAUNCH(kernel, grid, block, smem, stream, ...) ::simt::launch(kernel, (grid), (block), (smem), __VA_ARGS__)

// CUDA's own definitions when its headers came first (cuda_fp16.h brings vector_types.h).
#ifndef __VECTOR_TYPES_H__
struct uint3 { unsigned x, y, z; };
struct uint4 { unsigned x, y, z, w; };
struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
#endif
#ifndef __DRIVER_TYPES_H__
using cudaStream_t = struct CUstream_st*;
#endif

inline thread_local uint3 threadIdx{0, 0, 0};
inline thread_local uint3 blockIdx{0, 0, 0};
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;
constexpr int warpSize = 32;

// Saves the callee-saved registers on the current stack, stores the stack pointer
// in *from, switches to `to` and restores its registers (System V x86-64).
// A new fiber's stack starts with six register slots, simt_fiber_start as the
// return address, and the fiber's argument in the r12 slot.
extern "C" void simt_switch(void** from, void* to);
extern "C" void simt_fiber_start();
asm(R"(
  .pushsection .text.simt_switch,"axG",@progbits,simt_switch,comdat
  .weak simt_switch
  .type simt_switch,@function
simt_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size simt_switch, .-simt_switch
  .popsection
  .pushsection .text.simt_fiber_start,"axG",@progbits,simt_fiber_start,comdat
  .weak simt_fiber_start
  .type simt_fiber_start,@function
simt_fiber_start:
  movq %r12, %rdi
  call simt_fiber_main@PLT
  ud2
  .size simt_fiber_start, .-simt_fiber_start
  .popsection
)");

namespace simt {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class Schedule { Normal, Reverse, Random };

namespace detail {

inline std::string where(const std::source_location& l) {
  return std::string(l.file_name()) + ":" + std::to_string(l.line());
}

enum class State { Ready, Block, Warp, Done };

struct AsyncCopy { void* dst; const void* src; int bytes; bool zero; };

struct Fiber {
  void* sp = nullptr;
  char* stack = nullptr;
  unsigned tid = 0;
  State state = State::Ready;
  std::source_location at;          // where it waits
  int exchange_parity = 0;          // which half of the warp exchange it writes next
  std::vector<AsyncCopy> copies;    // cp.async issued, not yet complete
  std::vector<size_t> groups;       // copies.size() at each commit
};

constexpr size_t kStack = 256 * 1024, kGuard = 4096;
constexpr size_t kSlot = 64;        // bytes a lane can publish to its warp
constexpr size_t kCanary = 256;     // bytes of guard on each side of dynamic shared memory

struct Runtime {
  std::vector<Fiber> fibers;  // stacks are kept between launches; the first n run
  unsigned n = 0;
  std::vector<unsigned> order;
  void* scheduler_sp = nullptr;
  Fiber* current = nullptr;
  std::function<void()> body;
  std::exception_ptr error;
  // block barrier; `votes` sums the predicates of __syncthreads_count, `tally`
  // holds the last barrier's sum (read by each thread as it resumes, before any
  // later barrier can complete)
  unsigned live = 0, at_block = 0, votes = 0, tally = 0;
  std::source_location block_site;
  // per warp: arrivals at the warp barrier and the exchange buffer
  std::vector<unsigned> warp_live, warp_waiting;
  std::vector<unsigned char> exchange;  // [warp][parity][lane][kSlot]
  // dynamic shared memory with canaries on both sides
  std::vector<unsigned char> smem;
  size_t smem_bytes = 0;
  Schedule schedule = Schedule::Normal;
  bool schedule_set = false;
  std::mt19937_64 rng{1};

  ~Runtime() {
    for (Fiber& f : fibers)
      if (f.stack) munmap(f.stack, kStack + kGuard);
  }
};

inline Runtime& rt() {
  static thread_local Runtime r;
  return r;
}

// AddressSanitizer must know which stack runs (else it unpoisons the wrong one
// when an exception is thrown): the switches are announced to it.
#if defined(__SANITIZE_ADDRESS__)
struct AsanStack {
  const void* bottom = nullptr;
  size_t size = 0;
};
inline AsanStack& scheduler_stack() {
  static thread_local AsanStack s;
  return s;
}
inline void to_fiber(void** from, Fiber& f) {
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, f.stack + kGuard, kStack);
  simt_switch(from, f.sp);
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
}
inline void to_scheduler(void** from, void* to, bool dying) {
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(dying ? nullptr : &fake, scheduler_stack().bottom, scheduler_stack().size);
  simt_switch(from, to);
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
}
inline void fiber_started() {
  __sanitizer_finish_switch_fiber(nullptr, &scheduler_stack().bottom, &scheduler_stack().size);
}
#else
inline void to_fiber(void** from, Fiber& f) { simt_switch(from, f.sp); }
inline void to_scheduler(void** from, void* to, bool) { simt_switch(from, to); }
inline void fiber_started() {}
#endif

inline void read_schedule_env(Runtime& r) {
  if (r.schedule_set) return;
  r.schedule_set = true;
  const char* e = std::getenv("SIMT_SCHEDULE");
  if (!e || !*e || !std::strcmp(e, "normal")) return;
  std::string s(e);
  if (s == "reverse") { r.schedule = Schedule::Reverse; return; }
  if (s.rfind("random", 0) == 0) {
    r.schedule = Schedule::Random;
    r.rng.seed(s.size() > 7 && s[6] == ':' ? std::strtoull(s.c_str() + 7, nullptr, 10) : 1);
    return;
  }
  throw Error("SIMT_SCHEDULE must be normal, reverse or random[:seed], got '" + s + "'");
}

inline std::string thread_name(unsigned tid) {
  const unsigned x = tid % blockDim.x, y = tid / blockDim.x % blockDim.y, z = tid / (blockDim.x * blockDim.y);
  return "block (" + std::to_string(blockIdx.x) + "," + std::to_string(blockIdx.y) + "," + std::to_string(blockIdx.z) +
         ") thread (" + std::to_string(x) + "," + std::to_string(y) + "," + std::to_string(z) + ")";
}

[[noreturn]] inline void fail(const std::string& msg) { throw Error(msg); }

// Back to the scheduler; returns when this fiber is scheduled again.
inline void yield() {
  Runtime& r = rt();
  to_scheduler(&r.current->sp, r.scheduler_sp, false);
}

inline unsigned warp_of(unsigned tid) { return tid / 32; }

// Completes the first `count` queued cp.async copies.
inline void land(Fiber& f, size_t count);

inline void finish(Fiber& f) {
  Runtime& r = rt();
  land(f, f.copies.size());
  f.state = State::Done;
  --r.live;
  --r.warp_live[warp_of(f.tid)];
  // A thread that returns drops out of the barriers the others wait at.
  if (r.live && r.at_block == r.live) {
    r.at_block = 0;
    r.tally = r.votes, r.votes = 0;
    for (unsigned t = 0; t < r.n; ++t)
      if (r.fibers[t].state == State::Block) r.fibers[t].state = State::Ready;
  }
  if (r.warp_waiting[warp_of(f.tid)])
    fail(thread_name(f.tid) + " returned while lanes of its warp wait at a warp collective (partial warps are not emulated)");
}

}  // namespace detail
}  // namespace simt

extern "C" __attribute__((used)) inline void simt_fiber_main(simt::detail::Fiber* f) {
  using namespace simt::detail;
  Runtime& r = rt();
  fiber_started();
  try {
    r.body();
    finish(*f);
  } catch (...) {
    if (!r.error) r.error = std::current_exception();
    f->state = State::Done;
  }
  to_scheduler(&f->sp, r.scheduler_sp, true);
}

namespace simt {

inline void set_schedule(Schedule s, uint64_t seed = 1) {
  auto& r = detail::rt();
  r.schedule = s;
  r.schedule_set = true;
  r.rng.seed(seed);
}

inline Schedule schedule() {
  auto& r = detail::rt();
  detail::read_schedule_env(r);
  return r.schedule;
}

inline unsigned char* dynamic_shared() { return detail::rt().smem.data() + detail::kCanary; }
inline size_t dynamic_shared_bytes() { return detail::rt().smem_bytes; }

// Throws unless [p, p + bytes) lies inside this block's dynamic shared memory.
inline void check_shared(const void* p, size_t bytes, const std::source_location& at) {
  auto* c = static_cast<const unsigned char*>(p);
  if (c < dynamic_shared() || c + bytes > dynamic_shared() + dynamic_shared_bytes())
    detail::fail("shared-memory access outside the " + std::to_string(dynamic_shared_bytes()) +
                 " bytes of dynamic shared memory at " + detail::where(at) + " (" +
                 detail::thread_name(threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z)) + ")");
}

inline void block_sync(const std::source_location& at, bool vote = false) {
  auto& r = detail::rt();
  detail::Fiber& f = *r.current;
  if (r.at_block == 0) r.block_site = at;
  else if (r.block_site.line() != at.line() || std::strcmp(r.block_site.file_name(), at.file_name()))
    detail::fail("divergent __syncthreads: " + detail::where(r.block_site) + " and " + detail::where(at) + " (" +
                 detail::thread_name(f.tid) + ")");
  f.at = at;
  r.votes += vote;
  if (++r.at_block == r.live) {  // the last one releases everybody
    r.at_block = 0;
    r.tally = r.votes, r.votes = 0;
    for (unsigned t = 0; t < r.n; ++t)
      if (r.fibers[t].state == detail::State::Block) r.fibers[t].state = detail::State::Ready;
    return;
  }
  f.state = detail::State::Block;
  detail::yield();
}

// A warp barrier for warp collectives; the full warp must take part.
inline void warp_sync(unsigned mask, const std::source_location& at) {
  auto& r = detail::rt();
  detail::Fiber& f = *r.current;
  const unsigned w = detail::warp_of(f.tid);
  const unsigned lanes = std::min(32u, blockDim.x * blockDim.y * blockDim.z - w * 32);
  const unsigned full = lanes == 32 ? 0xffffffffu : (1u << lanes) - 1;
  if (mask != full)
    detail::fail("warp collective with mask " + std::to_string(mask) + " at " + detail::where(at) +
                 ": only full-warp masks are emulated");
  if (r.warp_live[w] != lanes)
    detail::fail("warp collective at " + detail::where(at) + " after a lane of the warp returned");
  f.at = at;
  if (++r.warp_waiting[w] == lanes) {
    r.warp_waiting[w] = 0;
    for (unsigned t = w * 32; t < w * 32 + lanes; ++t)
      if (r.fibers[t].state == detail::State::Warp) r.fibers[t].state = detail::State::Ready;
    return;
  }
  f.state = detail::State::Warp;
  detail::yield();
}

inline unsigned lane_id() { return detail::rt().current->tid % 32; }

// Each lane publishes `v`; after the warp barrier the result points at the 32
// values in lane order. The exchange is double-buffered, so one barrier suffices.
template <class T>
const T* warp_exchange(const T& v, unsigned mask, const std::source_location& at) {
  static_assert(sizeof(T) <= detail::kSlot && std::is_trivially_copyable_v<T>);
  auto& r = detail::rt();
  detail::Fiber& f = *r.current;
  const unsigned w = detail::warp_of(f.tid), lane = f.tid % 32;
  unsigned char* half = &r.exchange[((w * 2 + f.exchange_parity) * 32) * detail::kSlot];
  f.exchange_parity ^= 1;
  std::memcpy(half + lane * detail::kSlot, &v, sizeof(T));
  warp_sync(mask, at);
  static thread_local T out[32];
  // Copy out before the next yield: another warp may not touch this warp's slots,
  // but `out` is shared by all fibers of the OS thread.
  for (int i = 0; i < 32; ++i) std::memcpy(&out[i], half + i * detail::kSlot, sizeof(T));
  return out;
}

// cp.async: copies are queued per thread and land only when a wait covers their
// group, so a missing wait reads poisoned shared memory.
inline void async_copy(void* dst, const void* src, int bytes, bool zero_fill) {
  detail::rt().current->copies.push_back({dst, src, bytes, zero_fill});
}
inline void async_commit() {
  auto& f = *detail::rt().current;
  f.groups.push_back(f.copies.size());
}
// Completes all but the `pending` most recent committed groups.
inline void async_wait(int pending) {
  auto& f = *detail::rt().current;
  if (f.groups.size() > size_t(pending)) detail::land(f, f.groups[f.groups.size() - pending - 1]);
}

namespace detail {

inline void run_block(Runtime& r) {
  for (unsigned t = 0; t < r.n; ++t) {
    Fiber& f = r.fibers[t];
    f.state = State::Ready;
    f.exchange_parity = 0;
    f.copies.clear();
    f.groups.clear();
#if defined(__SANITIZE_ADDRESS__)
    // A stack reused after an abandoned block still carries its frames' poison.
    __asan_unpoison_memory_region(f.stack + kGuard, kStack);
#endif
    // A fresh stack frame: six register slots, then the start address.
    void** top = reinterpret_cast<void**>(f.stack + kGuard + kStack - 64);
    *--top = reinterpret_cast<void*>(&simt_fiber_start);
    for (int i = 0; i < 6; ++i) *--top = nullptr;
    top[3] = &f;  // r12
    f.sp = top;
  }
  r.live = r.n;
  r.at_block = r.votes = 0;
  const unsigned warps = (r.live + 31) / 32;
  r.warp_live.assign(warps, 0);
  r.warp_waiting.assign(warps, 0);
  for (unsigned t = 0; t < r.n; ++t) ++r.warp_live[warp_of(t)];
  r.exchange.assign(size_t(warps) * 2 * 32 * kSlot, 0);
  r.error = nullptr;
  for (;;) {
    if (r.schedule == Schedule::Random) std::shuffle(r.order.begin(), r.order.end(), r.rng);
    bool ran = false, left = false;
    for (unsigned t : r.order) {
      Fiber& f = r.fibers[t];
      if (f.state == State::Done) continue;
      left = true;
      if (f.state != State::Ready) continue;
      ran = true;
      r.current = &f;
      threadIdx = {t % blockDim.x, t / blockDim.x % blockDim.y, t / (blockDim.x * blockDim.y)};
      to_fiber(&r.scheduler_sp, f);
      r.current = nullptr;
      if (r.error) std::rethrow_exception(r.error);
    }
    if (!left) return;
    if (!ran) {
      std::string msg = "deadlock: every live thread waits";
      int shown = 0;
      for (unsigned t = 0; t < r.n; ++t) {
        Fiber& f = r.fibers[t];
        if (f.state == State::Done) continue;
        if (shown++ == 16) { msg += "\n  ..."; break; }
        msg += "\n  " + thread_name(f.tid) + (f.state == State::Block ? " at __syncthreads " : " at a warp collective ") +
               where(f.at);
      }
      fail(msg);
    }
  }
}

inline void land(Fiber& f, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const AsyncCopy& c = f.copies[i];
    if (c.zero) std::memset(c.dst, 0, c.bytes);
    else std::memcpy(c.dst, c.src, c.bytes);
  }
  f.copies.erase(f.copies.begin(), f.copies.begin() + count);
  size_t g = 0;
  for (size_t i = 0; i < f.groups.size(); ++i)
    if (f.groups[i] > count) f.groups[g++] = f.groups[i] - count;
  f.groups.resize(g);
}

}  // namespace detail

// Runs kernel(args...) on a grid of blocks, one block at a time.
template <class... P, class... A>
void launch(void (*kernel)(P...), dim3 grid, dim3 block, size_t smem_bytes, A&&... args) {
  using namespace detail;
  Runtime& r = rt();
  read_schedule_env(r);
  const unsigned n = block.x * block.y * block.z;
  if (n == 0 || n > 1024) fail("block of " + std::to_string(n) + " threads (1..1024 allowed)");
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) fail("empty grid");
  if (grid.y > 65535 || grid.z > 65535) fail("grid.y and grid.z must be <= 65535");
  while (r.fibers.size() < n) {
    Fiber f;
    void* m = mmap(nullptr, kStack + kGuard, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) fail("cannot allocate fiber stacks");
    mprotect(m, kGuard, PROT_NONE);  // a stack overflow faults instead of corrupting
    f.stack = static_cast<char*>(m);
    r.fibers.push_back(std::move(f));
  }
  r.n = n;
  for (unsigned t = 0; t < n; ++t) r.fibers[t].tid = t;
  r.order.resize(n);
  for (unsigned t = 0; t < n; ++t) r.order[t] = r.schedule == Schedule::Reverse ? n - 1 - t : t;

  std::tuple<std::decay_t<P>...> params(std::forward<A>(args)...);
  r.body = [&] { std::apply(kernel, params); };
  r.smem_bytes = smem_bytes;
  r.smem.assign(smem_bytes + 2 * kCanary, 0xa5);
  blockDim = block;
  gridDim = grid;
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        blockIdx = {x, y, z};
        std::memset(dynamic_shared(), 0xff, smem_bytes);
        run_block(r);
        for (size_t i = 0; i < kCanary; ++i)
          if (r.smem[i] != 0xa5 || r.smem[kCanary + smem_bytes + i] != 0xa5)
            fail("out-of-bounds write " + std::string(r.smem[i] != 0xa5 ? "before" : "after") + " the " +
                 std::to_string(smem_bytes) + " bytes of dynamic shared memory in block (" + std::to_string(x) + "," +
                 std::to_string(y) + "," + std::to_string(z) + ")");
      }
  r.body = nullptr;
}

}  // namespace simt

inline void __syncthreads(std::source_location at = std::source_location::current()) { simt::block_sync(at); }
inline int __syncthreads_count(int pred, std::source_location at = std::source_location::current()) {
  simt::block_sync(at, pred != 0);
  return int(simt::detail::rt().tally);
}
inline void __syncwarp(unsigned mask = 0xffffffffu, std::source_location at = std::source_location::current()) {
  simt::warp_sync(mask, at);
}
inline void __threadfence() {}
inline void __threadfence_block() {}

template <class T>
T __shfl_sync(unsigned mask, T v, int src, int width = 32, std::source_location at = std::source_location::current()) {
  const T* all = simt::warp_exchange(v, mask, at);
  const unsigned lane = simt::lane_id();
  return all[(lane & ~unsigned(width - 1)) + (unsigned(src) & unsigned(width - 1))];
}
template <class T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32,
                  std::source_location at = std::source_location::current()) {
  const T* all = simt::warp_exchange(v, mask, at);
  const unsigned lane = simt::lane_id(), src = lane ^ unsigned(lane_mask);
  // A source outside the lane's segment of `width` lanes returns its own value.
  return (src & ~unsigned(width - 1)) == (lane & ~unsigned(width - 1)) ? all[src] : all[lane];
}
template <class T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32,
                 std::source_location at = std::source_location::current()) {
  const T* all = simt::warp_exchange(v, mask, at);
  const unsigned lane = simt::lane_id();
  return (lane & unsigned(width - 1)) >= delta ? all[lane - delta] : all[lane];
}
template <class T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32,
                   std::source_location at = std::source_location::current()) {
  const T* all = simt::warp_exchange(v, mask, at);
  const unsigned lane = simt::lane_id();
  return (lane & unsigned(width - 1)) + delta < unsigned(width) ? all[lane + delta] : all[lane];
}
inline unsigned __ballot_sync(unsigned mask, int pred, std::source_location at = std::source_location::current()) {
  const int* all = simt::warp_exchange(pred, mask, at);
  unsigned bits = 0;
  for (int i = 0; i < 32; ++i) bits |= unsigned(all[i] != 0) << i;
  return bits & mask;
}
inline int __any_sync(unsigned mask, int pred, std::source_location at = std::source_location::current()) {
  return __ballot_sync(mask, pred, at) != 0;
}
inline int __all_sync(unsigned mask, int pred, std::source_location at = std::source_location::current()) {
  return __ballot_sync(mask, pred, at) == mask;
}
// Bit counts of a ballot (CUDA's integer intrinsic).
inline int __popc(unsigned x) { return __builtin_popcount(x); }

// Fibers never run concurrently, so plain read-modify-write is atomic here.
template <class T> T atomicAdd(T* p, T v) { T old = *p; *p = old + v; return old; }
template <class T> T atomicSub(T* p, T v) { T old = *p; *p = old - v; return old; }
template <class T> T atomicMax(T* p, T v) { T old = *p; *p = std::max(old, v); return old; }
template <class T> T atomicMin(T* p, T v) { T old = *p; *p = std::min(old, v); return old; }
template <class T> T atomicExch(T* p, T v) { T old = *p; *p = v; return old; }
template <class T> T atomicCAS(T* p, T compare, T v) { T old = *p; if (old == compare) *p = v; return old; }
template <class T> T atomicOr(T* p, T v) { T old = *p; *p = old | v; return old; }
template <class T> T atomicAnd(T* p, T v) { T old = *p; *p = old & v; return old; }

template <class T> T __ldg(const T* p) { return *p; }

// CUDA's integer min/max in device code.
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }

#endif  // emulation
