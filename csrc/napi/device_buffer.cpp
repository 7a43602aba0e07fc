#include "device_buffer.h"

#include "../cuda/runtime.h"
#include "env_data.h"
#include "marshal.h"
#include "registry.h"

namespace subq::napi {

namespace {

// Marks the objects this class wraps, so of() tells them from look-alikes without
// running JavaScript (instanceof would consult Symbol.hasInstance).
const napi_type_tag kTag = {0x5ab9d1c3e4f60718ULL, 0x93a2b4c5d6e7f801ULL};

DeviceBuffer* unwrap(napi_env env, napi_value v) {
  bool tagged = false;
  if (napi_check_object_type_tag(env, v, &kTag, &tagged) != napi_ok || !tagged) return nullptr;
  void* p = nullptr;
  if (napi_unwrap(env, v, &p) != napi_ok || !p) return nullptr;
  return static_cast<DeviceBuffer*>(static_cast<Napi::ObjectWrap<DeviceBuffer>*>(p));
}

}  // namespace

void DeviceBuffer::define(Napi::Env env, Napi::Object exports) {
  Napi::Function f = DefineClass(
      env, "DeviceBuffer",
      {InstanceMethod<&DeviceBuffer::dispose>("dispose"), InstanceAccessor<&DeviceBuffer::get_bytes>("bytes"),
       InstanceAccessor<&DeviceBuffer::get_device>("device"),
       InstanceAccessor<&DeviceBuffer::get_disposed>("disposed")});
  env_data(env).device_buffer = Napi::Persistent(f);
  exports.Set("DeviceBuffer", f);
}

Napi::Object DeviceBuffer::create(Napi::Env env, int device, size_t bytes) {
  return env_data(env).device_buffer.New({Napi::Number::New(env, device), Napi::Number::New(env, double(bytes))});
}

DeviceBuffer* DeviceBuffer::of(const Napi::Value& v) {
  if (!v.IsObject()) return nullptr;
  if (DeviceBuffer* b = unwrap(v.Env(), v)) return b;
  Napi::Value inner = v.As<Napi::Object>().Get("deviceBuffer");
  return inner.IsObject() ? unwrap(v.Env(), inner) : nullptr;
}

DeviceBuffer::DeviceBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceBuffer>(info) {
  try {
    const int64_t device = to_int(info[0], "device"), bytes = to_int(info[1], "bytes");
    if (device < 0 || device > 1023) range_error("device must be in [0, 1023], got " + std::to_string(device));
    if (bytes < 0) range_error("bytes must be >= 0, got " + std::to_string(bytes));
    ptr_ = cuda::alloc(int(device), size_t(bytes));
    napi_type_tag_object(info.Env(), info.This(), &kTag);
    device_ = int(device);
    bytes_ = size_t(bytes);
  } catch (const Error& e) {
    throw_js(info.Env(), e);
  }
}

void DeviceBuffer::require_live(const std::string& name) const {
  if (disposed_)
    type_error(name + " was disposed: its cuda:" + std::to_string(device_) + " memory is freed and it can no longer be used");
}

void DeviceBuffer::acquire() {
  ++uses_;
  Ref();  // the JS object stays alive (so is not finalized) while an op uses it
}

void DeviceBuffer::release_use() {
  Unref();
  if (--uses_ == 0 && disposed_) free();
}

void DeviceBuffer::free() {
  if (ptr_) cuda::release(device_, ptr_);
  ptr_ = nullptr;
}

Napi::Value DeviceBuffer::get_bytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(bytes_)); }
Napi::Value DeviceBuffer::get_device(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), device_); }
Napi::Value DeviceBuffer::get_disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), disposed_); }

Napi::Value DeviceBuffer::dispose(const Napi::CallbackInfo& info) {
  disposed_ = true;
  if (uses_ == 0) free();
  return info.Env().Undefined();
}

SUBQ_EXPORTS(device_buffer) { DeviceBuffer::define(env, exports); }

}  // namespace subq::napi
