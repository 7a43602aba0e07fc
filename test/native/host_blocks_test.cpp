// core/host_blocks: the memory behind new CPU outputs, async staging copies and the
// CPU kernels' large scratch. What
// JavaScript cannot see: blocks are 2 MiB-aligned and sized, a reused block reads as
// zeros over the bytes asked for, blocks come back for their own size only, and the
// cache stays within its bounds.
#include "../../csrc/core/host_blocks.h"
#include "../../csrc/cpu/rows.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include "harness.h"

namespace subq::test {

namespace {

constexpr size_t kMiB = size_t(1) << 20;

bool all_zero(const void* p, size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i)
    if (b[i]) return false;
  return true;
}

}  // namespace

void register_host_blocks_tests() {
  add("host blocks: 2 MiB-aligned, sized up to 2 MiB, zero-filled when new", [] {
    for (size_t bytes : {kMiB, 3 * kMiB + 5, 12 * kMiB + 4096}) {
      HostBlock b = map_host_block(bytes);
      check(b.data != nullptr, "a block was mapped");
      check(reinterpret_cast<uintptr_t>(b.data) % (2 * kMiB) == 0, "2 MiB-aligned");
      check(b.capacity % (2 * kMiB) == 0 && b.capacity >= bytes && b.capacity < bytes + 2 * kMiB,
            "capacity rounded up to 2 MiB");
      check(all_zero(b.data, b.capacity), "new memory reads as zeros");
      std::memset(b.data, 0xAB, b.capacity);  // writable to its end
      release_host_block(b);
    }
    check(map_host_block(0).data == nullptr, "no block for 0 bytes");
  });
  add("host blocks: a reused block is the same memory, zeroed over the bytes asked for", [] {
    const size_t bytes = 5 * kMiB + 123;
    HostBlock a = map_host_block(bytes);
    std::memset(a.data, 0x5A, a.capacity);
    release_host_block(a);
    HostBlock b = take_cached_host_block(bytes - 1000, true);  // same 2 MiB class
    check(b.data == a.data && b.capacity == a.capacity, "the cached block came back");
    check(all_zero(b.data, bytes - 1000), "zeroed over the requested bytes");
    release_host_block(b);
    HostBlock c = take_cached_host_block(bytes, false);
    check(c.data == a.data, "taken again");
    check(!all_zero(c.data, bytes), "not zeroed when not asked (staging overwrites it)");
    check(take_cached_host_block(bytes, true).data == nullptr, "none left of that size");
    check(take_cached_host_block(bytes + 2 * kMiB, true).data == nullptr, "no block of another size");
    release_host_block(c);
  });
  add("host blocks: the cache stays within its bounds (256 MiB and 32 blocks, more per hardware thread)", [] {
    const size_t max_bytes = host_block_cache_max_bytes(), max_blocks = host_block_cache_max_blocks();
    check(max_bytes >= size_t(256) * kMiB + 32 * kMiB && max_blocks >= 36, "room for the kernels' scratch of a thread");
    std::vector<HostBlock> bs;
    for (size_t i = 0; i < max_blocks + 8; ++i) bs.push_back(map_host_block(kMiB));
    for (HostBlock& b : bs) release_host_block(b);
    check(host_block_cache_bytes() <= max_bytes, "within its bytes");
    size_t n = 0;
    std::vector<HostBlock> back;
    for (HostBlock b; (b = take_cached_host_block(kMiB, false)).data; ++n) back.push_back(b);
    check(n == max_blocks, "max_blocks cached, got " + std::to_string(n));
    for (HostBlock& b : back) release_host_block(b);
    // Never touched, so these cost address space only.
    const size_t large = (max_bytes * 2 / 5) & ~(2 * kMiB - 1);
    std::vector<HostBlock> big;
    for (int i = 0; i < 3; ++i) big.push_back(map_host_block(large));
    for (HostBlock& b : big) release_host_block(b);
    check(host_block_cache_bytes() <= max_bytes, "large blocks evict older ones");
    HostBlock huge = map_host_block(max_bytes + 2 * kMiB);
    check(huge.data != nullptr, "a block larger than the cache was mapped");
    release_host_block(huge);  // larger than the cache: unmapped
    check(take_cached_host_block(max_bytes + 2 * kMiB, false).data == nullptr, "a block larger than the cache is not kept");
  });
  add("host blocks: the kernels' scratch (Buf) is a block when large, back in the cache after, zeroed when asked", [] {
    const int64_t n = int64_t(3 * kMiB / sizeof(float)) + 7;
    void* first = nullptr;
    {
      cpu::Buf b(n, cpu::Buf::kUninit);
      first = b.data();
      check(reinterpret_cast<uintptr_t>(first) % (2 * kMiB) == 0, "a large Buf is a 2 MiB-aligned block");
      std::memset(b.data(), 0x7F, size_t(n) * sizeof(float));
      cpu::Buf moved(std::move(b));
      check(moved.data() == first && !b, "moved with its block");
    }
    cpu::Buf again(n);  // zeroed: the recycled block held 0x7F
    check(again.data() == first, "the next Buf of that size on any thread gets the same block");
    check(all_zero(again.data(), size_t(n) * sizeof(float)), "a recycled block is zeroed for kZero");
    again.reset(100);
    check(reinterpret_cast<uintptr_t>(again.data()) % 64 == 0 && all_zero(again.data(), 400), "a small Buf is the heap's, aligned, zeroed");
    HostBlock b = take_cached_host_block(size_t(n) * sizeof(float), false);
    check(b.data == first, "reset gave the block back to the cache");
    release_host_block(b);
  });
  add("host blocks: HostMemory takes a block when large, the heap when small", [] {
    {
      HostMemory m(3 * kMiB);
      check(reinterpret_cast<uintptr_t>(m.data()) % (2 * kMiB) == 0, "a large one is a block");
      std::memset(m.data(), 1, 3 * kMiB);
    }
    HostBlock b = take_cached_host_block(3 * kMiB, false);
    check(b.data != nullptr, "its block went back to the cache");
    release_host_block(b);
    HostMemory s(100);
    std::memset(s.data(), 1, 100);
    HostMemory moved(std::move(s));
    check(moved.data() != nullptr, "movable");
  });
}

}  // namespace subq::test
