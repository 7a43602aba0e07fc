#include "host_alloc.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "../core/error.h"
#include "../core/host_blocks.h"

namespace subq::napi {

namespace {

// Node frees an external buffer only on the event loop after its collection, so a
// synchronous loop of calls cannot hand its blocks back. New blocks are mapped while
// fewer than this many bytes of them await their finalizers; past that, an output
// without a cached block is V8's own (which garbage collection frees at once) with
// huge pages asked for.
constexpr int64_t kOutstandingMax = int64_t(128) << 20;
std::atomic<int64_t> outstanding{0};

void finalize(napi_env env, void* data, void* hint) {
  const size_t capacity = reinterpret_cast<uintptr_t>(hint);
  release_host_block({data, capacity});
  outstanding.fetch_sub(int64_t(capacity));
  int64_t ignored;
  napi_adjust_external_memory(env, -int64_t(capacity), &ignored);  // may fail at teardown: nothing to undo
}

// An external ArrayBuffer over a huge-page block, or nullptr when none.
napi_value block_buffer(napi_env env, size_t bytes) {
  if (bytes < kHostBlockMin) return nullptr;
  HostBlock b = take_cached_host_block(bytes, true);
  if (!b.data && outstanding.load() + int64_t(bytes) <= kOutstandingMax) b = map_host_block(bytes);
  if (!b.data) return nullptr;
  napi_value ab = nullptr;
  // napi_no_external_buffers_allowed where the runtime forbids them (the V8 sandbox).
  if (napi_create_external_arraybuffer(env, b.data, bytes, finalize, reinterpret_cast<void*>(uintptr_t(b.capacity)),
                                       &ab) != napi_ok) {
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
    }
    release_host_block(b);
    return nullptr;
  }
  outstanding.fetch_add(int64_t(b.capacity));
  int64_t ignored;
  napi_adjust_external_memory(env, int64_t(b.capacity), &ignored);  // garbage collection sees the block
  return ab;
}

}  // namespace

Napi::ArrayBuffer new_host_buffer(Napi::Env env, size_t bytes) {
  if (napi_value ab = block_buffer(env, bytes)) return Napi::ArrayBuffer(env, ab);
  // V8 aborts the process when its own allocation fails, so the size is first proven
  // allocatable with calloc (the allocator Node gives V8 for zeroed buffers).
  void* probe = std::calloc(bytes ? bytes : 1, 1);
  if (!probe) oom_error("out of memory: a new output of " + std::to_string(bytes) + " bytes could not be allocated");
  std::free(probe);
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, bytes);
  // Fresh pages as a rule: calloc maps large sizes anew, or grows its heap.
  if (bytes >= kHostBlockMin) advise_huge_pages(buf.Data(), bytes);
  return buf;
}

}  // namespace subq::napi
