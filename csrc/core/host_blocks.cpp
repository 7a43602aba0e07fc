#include "host_blocks.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#if !defined(_WIN32)
#include <sys/mman.h>
#endif

#include "thread_pool.h"

namespace subq {

namespace {

constexpr size_t kHuge = size_t(2) << 20;
// Freed blocks kept for reuse: enough for the outputs and staging copies of a few
// calls in a loop, and for every thread's kernel scratch (attention stages K and V in
// up to 32 MiB per thread, docs/cpu-kernels.md), little enough to be no burden when idle.
size_t cache_max_bytes() {
  static const size_t n = (size_t(256) << 20) + size_t(hardware_threads()) * (size_t(32) << 20);
  return n;
}
size_t cache_max_blocks() {
  static const size_t n = 32 + 4 * size_t(hardware_threads());
  return n;
}

struct Cache {
  std::mutex mu;
  std::vector<HostBlock> blocks;  // oldest first
  size_t bytes = 0;
};

// Never destroyed: a finalizer may release a block while the process exits.
Cache& cache() {
  static Cache* c = new Cache();
  return *c;
}

size_t round_up(size_t bytes) { return (bytes + kHuge - 1) & ~(kHuge - 1); }

}  // namespace

HostBlock take_cached_host_block(size_t bytes, bool zero) {
  if (bytes == 0) return {};
  const size_t capacity = round_up(bytes);
  HostBlock b;
  {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mu);
    // The newest block of this size: its pages are the likeliest still in cache.
    for (size_t i = c.blocks.size(); i-- > 0;) {
      if (c.blocks[i].capacity != capacity) continue;
      b = c.blocks[i];
      c.blocks.erase(c.blocks.begin() + ptrdiff_t(i));
      c.bytes -= capacity;
      break;
    }
  }
  if (b.data && zero) std::memset(b.data, 0, bytes);
  return b;
}

HostBlock acquire_host_block(size_t bytes, bool zero) {
  HostBlock b = take_cached_host_block(bytes, zero);
  return b.data ? b : map_host_block(bytes);
}

HostBlock map_host_block(size_t bytes) {
#if defined(_WIN32)
  (void)bytes;
  return {};
#else
  if (bytes == 0 || bytes > (size_t(1) << 46)) return {};
  // A larger mapping trimmed at both ends to a kHuge-aligned one.
  const size_t capacity = round_up(bytes), span = capacity + kHuge;
  void* p = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return {};
  const uintptr_t base = reinterpret_cast<uintptr_t>(p);
  const uintptr_t start = (base + kHuge - 1) & ~(kHuge - 1), end = start + capacity;
  if (start > base) munmap(p, start - base);
  if (base + span > end) munmap(reinterpret_cast<void*>(end), base + span - end);
  madvise(reinterpret_cast<void*>(start), capacity, MADV_HUGEPAGE);  // advice: works without THP too
  return {reinterpret_cast<void*>(start), capacity};
#endif
}

void release_host_block(HostBlock b) {
  if (!b.data) return;
  std::vector<HostBlock> evicted;
  const size_t max_bytes = cache_max_bytes(), max_blocks = cache_max_blocks();
  if (b.capacity <= max_bytes) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mu);
    c.blocks.push_back(b);
    c.bytes += b.capacity;
    b = {};
    while (c.bytes > max_bytes || c.blocks.size() > max_blocks) {
      evicted.push_back(c.blocks.front());
      c.bytes -= c.blocks.front().capacity;
      c.blocks.erase(c.blocks.begin());
    }
  }
  if (b.data) evicted.push_back(b);
#if !defined(_WIN32)
  for (const HostBlock& e : evicted) munmap(e.data, e.capacity);
#endif
}

void advise_huge_pages(void* p, size_t bytes) {
#if !defined(_WIN32)
  const uintptr_t lo = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t hi = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHuge - 1);
  if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);
#else
  (void)p, (void)bytes;
#endif
}

HostMemory::HostMemory(size_t bytes, bool zero) {
  if (bytes >= kHostBlockMin) block_ = acquire_host_block(bytes, zero);  // a new block reads as zeros
  if (!block_.data) {
    const size_t n = (bytes + 63) / 64 * 64;
    small_ = std::aligned_alloc(64, n ? n : 64);
    if (!small_) throw std::bad_alloc();
    if (zero) std::memset(small_, 0, n);
  }
}

HostMemory::~HostMemory() {
  release_host_block(block_);
  std::free(small_);
}

size_t host_block_cache_bytes() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.bytes;
}

size_t host_block_cache_max_bytes() { return cache_max_bytes(); }
size_t host_block_cache_max_blocks() { return cache_max_blocks(); }

}  // namespace subq
