// A JavaScript handle to one block of device memory (marshalling only: memory
// comes from cuda/runtime.h). It frees the memory on dispose(), or on garbage
// collection as a backstop. Frees are stream-ordered, so disposing a buffer that
// enqueued work still reads is safe; calls that enqueue from a worker thread (an
// upload) hold a use until they settle, so a dispose() meanwhile defers the free
// until their work is enqueued.
#pragma once
#include <napi.h>

#include <cstddef>
#include <string>

namespace subq::napi {

class DeviceBuffer : public Napi::ObjectWrap<DeviceBuffer> {
 public:
  // Registers the class on `exports` (as DeviceBuffer) for this environment.
  static void define(Napi::Env env, Napi::Object exports);
  // Allocates `bytes` on cuda:`device`.
  static Napi::Object create(Napi::Env env, int device, size_t bytes);
  // The buffer `v` is, or the one held by a tensor object's `deviceBuffer`; null
  // otherwise (look-alike objects included).
  static DeviceBuffer* of(const Napi::Value& v);

  explicit DeviceBuffer(const Napi::CallbackInfo& info);  // new DeviceBuffer(device, bytes)
  ~DeviceBuffer() override { free(); }

  void* data() const { return ptr_; }
  int device() const { return device_; }
  size_t bytes() const { return bytes_; }
  bool disposed() const { return disposed_; }
  // Throws a TypeError naming `name` when the buffer was disposed.
  void require_live(const std::string& name) const;

  // An async op's use: the memory and the JS object outlive a dispose() or a lost
  // reference until release_use().
  void acquire();
  void release_use();

 private:
  Napi::Value dispose(const Napi::CallbackInfo& info);
  Napi::Value get_bytes(const Napi::CallbackInfo& info);
  Napi::Value get_device(const Napi::CallbackInfo& info);
  Napi::Value get_disposed(const Napi::CallbackInfo& info);
  void free();

  void* ptr_ = nullptr;
  int device_ = 0;
  size_t bytes_ = 0;
  bool disposed_ = false;
  int uses_ = 0;  // async ops in flight (JS thread only)
};

}  // namespace subq::napi
