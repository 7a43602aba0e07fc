// Copies between TypedArrays and device buffers (what tensor.to() and toArray()
// use) and the explicit wait (sync): marshalling only. The model is in
// cuda/runtime.h: an upload is enqueued and its Promise resolves then; a download
// is a host read, so its Promise resolves once the bytes are in the array.
#include <cstring>
#include <memory>
#include <new>

#include "../cuda/runtime.h"
#include "async.h"
#include "device_buffer.h"
#include "registry.h"

namespace subq::napi {

namespace {

struct HostBytes {
  void* data;
  size_t bytes;
};

HostBytes host_bytes(const Napi::Value& v, const char* name) {
  if (!v.IsTypedArray()) type_error(std::string(name) + " must be a TypedArray");
  Napi::TypedArray a = v.As<Napi::TypedArray>();
  return {static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset(), a.ByteLength()};
}

DeviceBuffer* live_buffer(const Napi::Value& v) {
  DeviceBuffer* b = DeviceBuffer::of(v);
  if (!b) type_error("buffer must be a DeviceBuffer");
  b->require_live("the tensor");
  return b;
}

// A private host copy of the bytes a copy moves: the caller may resize, transfer
// or detach the array while the copy is in flight.
std::shared_ptr<uint8_t[]> host_block(size_t bytes) {
  std::shared_ptr<uint8_t[]> p(new (std::nothrow) uint8_t[bytes ? bytes : 1]);
  if (!p) oom_error("out of memory: a copy could not stage " + std::to_string(bytes) + " bytes on the host");
  return p;
}

// (buffer, array) of a copy, checked, and the private host block it moves the bytes through.
struct CopyArgs {
  DeviceBuffer* buffer;
  HostBytes array;
  std::shared_ptr<uint8_t[]> block;
};

CopyArgs copy_args(const Napi::CallbackInfo& info) {
  DeviceBuffer* b = live_buffer(info[0]);
  const HostBytes h = host_bytes(info[1], "array");
  if (h.bytes != b->bytes())
    range_error("array holds " + std::to_string(h.bytes) + " bytes but the device buffer holds " +
                std::to_string(b->bytes()));
  return {b, h, host_block(h.bytes)};
}

// copyToDevice(buffer, array): the bytes are staged on this thread; the upload
// from pageable memory is enqueued on a worker (the driver may block while it
// stages them) and the Promise resolves once it is enqueued. The buffer is new
// (tensor.to), so no other work touches it before the Promise resolves.
Napi::Value copy_to_device(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, true, [&]() -> Napi::Value {
    auto [b, h, block] = copy_args(info);
    if (h.bytes) std::memcpy(block.get(), h.data, h.bytes);
    OpCall call;
    call.keep_alive = {info[0]};
    call.buffers = {b};
    const int dev = b->device();
    void* d = b->data();
    const size_t n = h.bytes;
    call.work = [=] { cuda::upload(dev, d, block.get(), n, block); };
    call.result = [](Napi::Env env, const std::vector<Napi::Value>&) -> Napi::Value { return env.Undefined(); };
    return run_op(env, true, std::move(call));
  });
}

// copyToHost(buffer, array): a snapshot of the buffer is taken on the device,
// in this thread's stream order (so work enqueued after this call, which may
// write the buffer, cannot change what is read); a worker downloads it and waits,
// and the bytes land in the array when the Promise settles. Without memory for
// the snapshot, the download is enqueued here instead and the worker only waits.
Napi::Value copy_to_host(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, true, [&]() -> Napi::Value {
    auto [b, h, block] = copy_args(info);
    const int dev = b->device();
    const size_t n = h.bytes;
    // The snapshot goes back to the pool (in stream order, so after the download
    // that reads it) when the call is done with, run or cancelled.
    std::shared_ptr<void> snap;
    if (n) {
      try {
        snap = std::shared_ptr<void>(cuda::alloc(dev, n), [dev](void* p) { cuda::release(dev, p); });
        cuda::copy(dev, snap.get(), b->data(), n);
      } catch (const Error& e) {
        if (e.code() != ErrorCode::OutOfMemory) throw;
        snap.reset();
        cuda::download(dev, block.get(), b->data(), n, block);
      }
    }
    OpCall call;
    call.keep_alive = {info[0], info[1]};
    call.work = [=] {
      if (!n) return;
      if (snap) cuda::download(dev, block.get(), snap.get(), n, block);
      cuda::wait(dev);
    };
    call.result = [block, base = h.data, n](Napi::Env env, const std::vector<Napi::Value>& kept) -> Napi::Value {
      // The array must still be the memory the call began with.
      const HostBytes now = host_bytes(kept[1], "array");
      if (now.data != base || now.bytes != n)
        range_error("array: the buffer was resized, transferred or detached while the copy ran, so the data were not written");
      if (n) std::memcpy(now.data, block.get(), n);
      return env.Undefined();
    };
    return run_op(env, true, std::move(call));
  });
}

int device_index(const Napi::Value& v) {
  const int64_t d = to_int(v, "device");
  if (d < 0 || d > 1023) range_error("device must be in [0, 1023], got " + std::to_string(d));
  return int(d);
}

// cudaSync(device): a Promise that resolves once the work enqueued on the device
// so far is done (the fence is taken now, on this thread). cudaSyncSync waits here.
Napi::Value sync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, true, [&]() -> Napi::Value {
    auto f = std::make_shared<cuda::Fence>(cuda::fence(device_index(info[0])));
    OpCall call;
    call.work = [f] { f->wait(); };
    call.result = [](Napi::Env env, const std::vector<Napi::Value>&) -> Napi::Value { return env.Undefined(); };
    return run_op(env, true, std::move(call));
  });
}

Napi::Value sync_sync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, false, [&]() -> Napi::Value {
    cuda::wait(device_index(info[0]));
    return env.Undefined();
  });
}

}  // namespace

SUBQ_EXPORTS(device) {
  exports.Set("copyToDevice", Napi::Function::New(env, copy_to_device));
  exports.Set("copyToHost", Napi::Function::New(env, copy_to_host));
  exports.Set("cudaSync", Napi::Function::New(env, sync));
  exports.Set("cudaSyncSync", Napi::Function::New(env, sync_sync));
  exports.Set("cudaDeviceCount", Napi::Function::New(env, [](const Napi::CallbackInfo& i) -> Napi::Value {
    return Napi::Number::New(i.Env(), cuda::device_count());
  }));
}

}  // namespace subq::napi
