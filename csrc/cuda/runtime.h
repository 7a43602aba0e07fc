// The CUDA runtime as the rest of the package sees it: devices, one stream per
// device, stream-ordered device memory and copies. Needs no CUDA header
// (CUstream_st* is cudaStream_t, CUevent_st* is cudaEvent_t). In builds without
// CUDA every call but device_count() throws a clear Error (backend_none.cpp).
//
// The model is PyTorch's (docs/architecture.md, "CUDA: stream-ordered work"):
// every allocation, copy, kernel and free on a device goes to that device's one
// stream and the call returns once the work is enqueued. Stream order keeps it
// correct: a kernel reads what earlier work wrote, and a buffer freed after a
// kernel was enqueued is only reused once that kernel is done. The host waits
// only where it reads results (download + wait, sync). Calls may come from any
// thread.
#pragma once
#include <cstddef>
#include <memory>

struct CUstream_st;
struct CUevent_st;

namespace subq::cuda {

// Usable devices; 0 without a GPU, a driver, or the CUDA backend.
int device_count();
// Makes `device` current on the calling thread; throws a RangeError naming the
// devices there are when it does not exist, and ERR_SUBQ_DEVICE_LOST when an
// earlier kernel fault lost its context (every later call fails fast so).
void use_device(int device);
// The device's stream (created on first use).
CUstream_st* stream(int device);

// A point in a device's stream: the work enqueued before fence() was called.
// Events come from a per-device pool, so fences cost no event creation.
class Fence {
 public:
  Fence() = default;
  Fence(int device, CUevent_st* event) : device_(device), event_(event) {}
  Fence(Fence&& o) noexcept : device_(o.device_), event_(o.event_) { o.event_ = nullptr; }
  Fence& operator=(Fence&& o) noexcept;
  Fence(const Fence&) = delete;
  Fence& operator=(const Fence&) = delete;
  ~Fence();  // returns the event to the pool
  // Whether the work before the fence has finished (reports its errors).
  bool done() const;
  // Blocks the calling thread (without spinning) until it has; reports its errors.
  void wait() const;

 private:
  int device_ = 0;
  CUevent_st* event_ = nullptr;
};
Fence fence(int device);
// fence(device).wait(): every piece of work enqueued on the device so far is done.
// Also drops what keep_until_done() held for that work.
void wait(int device);

// Keeps `owner` (host memory a copy reads or writes, a table a kernel reads)
// alive until the work enqueued on the device so far is done. Held owners are
// dropped on later calls and at wait(), oldest first, once their work is done.
void keep_until_done(int device, std::shared_ptr<const void> owner);

// Device memory from this package's own stream-ordered pool on the device (the
// device's default pool, which other libraries in the process share, is left
// as it is). Out of memory is a RangeError and leaves the process usable.
void* alloc(int device, size_t bytes);
// Stream-ordered free; never throws (it runs from finalizers too).
void release(int device, void* ptr) noexcept;

// Copies between host and device memory, enqueued: `owner` keeps the host memory
// alive until the copy is done (keep_until_done). A download's bytes are there
// once a later fence has passed.
void upload(int device, void* dst, const void* src, size_t bytes, std::shared_ptr<const void> owner);
void download(int device, void* dst, const void* src, size_t bytes, std::shared_ptr<const void> owner);
// A device-to-device copy, enqueued.
void copy(int device, void* dst, const void* src, size_t bytes);
// A download the calling thread waits for (validation that must read device data).
void read_back(int device, void* dst, const void* src, size_t bytes);

// Builds without CUDA: every CUDA entry point (backend_none.cpp, ssm_none.cpp,
// xattention_none.cpp) refuses with this one Error, which says why and how to fix it.
[[noreturn]] void no_cuda();

}  // namespace subq::cuda
