// Large host memory blocks for new CPU outputs, async staging copies and the CPU
// kernels' scratch, so that a fresh output, or a call on another thread, costs what a
// reused one does. First-touch page faults are the cost:
// on a VM a 4 KiB fault takes tens of microseconds, so a 12 MB output takes ~3,000 of
// them. A block is 2 MiB-aligned and asks for transparent huge pages, and a released
// block goes to a small process-wide cache whose pages are already faulted in, for
// the next block of that size. Thread-safe: blocks are released from any
// environment's thread (workers included). The cache lives for the process and is
// never destroyed, so a release during process or worker teardown is always safe.
#pragma once
#include <cstddef>
#include <cstdint>

namespace subq {

struct HostBlock {
  void* data = nullptr;
  size_t capacity = 0;  // bytes mapped (a multiple of 2 MiB)
};

// Blocks are for sizes from this up; smaller ones are the ordinary allocator's.
constexpr size_t kHostBlockMin = size_t(1) << 20;

// A cached block of at least `bytes` (its first `bytes` zeroed when `zero`), or
// {nullptr, 0} when the cache has none of that size.
HostBlock take_cached_host_block(size_t bytes, bool zero);
// A newly mapped block of at least `bytes` (zero-filled), or {nullptr, 0}.
HostBlock map_host_block(size_t bytes);
// The cached block, else a new one (out of line: the CPU kernels call it from code
// compiled once per ISA).
HostBlock acquire_host_block(size_t bytes, bool zero);
// Gives a block back: cached when the cache has room, else unmapped.
void release_host_block(HostBlock b);
// Asks for huge pages on the 2 MiB-aligned pages inside [p, p + bytes), memory
// not yet touched that another allocator owns (advice only; nothing else changes).
void advise_huge_pages(void* p, size_t bytes);
// Bytes the cache holds, and its bounds in bytes and blocks (for tests).
size_t host_block_cache_bytes();
size_t host_block_cache_max_bytes();
size_t host_block_cache_max_blocks();

// Scratch host memory owned by C++: a block for a large size (core's cache keeps it warm
// for the next call, on whichever thread), the heap for a small one, aligned to a cache
// line either way; zeroed when asked. Throws std::bad_alloc when none can be had.
class HostMemory {
 public:
  HostMemory() = default;  // none
  explicit HostMemory(size_t bytes, bool zero = false);
  ~HostMemory();
  HostMemory(HostMemory&& o) noexcept : block_(o.block_), small_(o.small_) { o.block_ = {}, o.small_ = nullptr; }
  HostMemory& operator=(HostMemory&& o) noexcept {
    HostMemory old(static_cast<HostMemory&&>(*this));
    block_ = o.block_, small_ = o.small_;
    o.block_ = {}, o.small_ = nullptr;
    return *this;
  }
  HostMemory(const HostMemory&) = delete;
  HostMemory& operator=(const HostMemory&) = delete;
  uint8_t* data() const { return static_cast<uint8_t*>(block_.data ? block_.data : small_); }

 private:
  HostBlock block_;
  void* small_ = nullptr;
};

}  // namespace subq
