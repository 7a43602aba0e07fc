// The CUDA runtime as the rest of the package sees it: devices, one stream per
// device, stream-ordered device memory and copies. Needs no CUDA header
// (CUstream_st* is cudaStream_t). In builds without CUDA every call but
// device_count() throws a clear Error (backend_none.cpp).
//
// Ordering: every allocation, copy, kernel and free on a device goes to that
// device's one stream, so a buffer freed after a kernel was enqueued is only
// reused once the kernel is done. Calls may come from any thread.
#pragma once
#include <cstddef>

struct CUstream_st;

namespace subq::cuda {

// Usable devices; 0 without a GPU, a driver, or the CUDA backend.
int device_count();
// Makes `device` current on the calling thread; throws a RangeError naming the
// devices there are when it does not exist.
void use_device(int device);
// The device's stream (created on first use).
CUstream_st* stream(int device);
// Blocks the calling thread (without spinning) until the work enqueued so far on
// the device's stream has finished; reports errors of that work.
void wait(int device);

// Device memory from the device's stream-ordered pool. Out of memory is a
// RangeError and leaves the process usable.
void* alloc(int device, size_t bytes);
// Stream-ordered free; never throws (it runs from finalizers too).
void release(int device, void* ptr) noexcept;

// Copies between host and device memory; both return when the copy is done.
void upload(int device, void* dst, const void* src, size_t bytes);
void download(int device, void* dst, const void* src, size_t bytes);

// Builds without CUDA: every CUDA entry point (backend_none.cpp, ssm_none.cpp,
// xattention_none.cpp) refuses with this one Error, which says why and how to fix it.
[[noreturn]] void no_cuda();

}  // namespace subq::cuda
