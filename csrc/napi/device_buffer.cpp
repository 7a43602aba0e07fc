#include "device_buffer.h"

#include <map>

#include "../cuda/runtime.h"
#include "marshal.h"
#include "registry.h"

namespace subq::napi {

namespace {

// The class's constructor in each environment (main thread and workers).
std::map<napi_env, Napi::FunctionReference>& constructors() {
  static std::map<napi_env, Napi::FunctionReference> m;
  return m;
}

const Napi::FunctionReference& constructor(Napi::Env env) {
  auto it = constructors().find(env);
  if (it == constructors().end()) runtime_error("DeviceBuffer is not registered in this environment");
  return it->second;
}

}  // namespace

void DeviceBuffer::define(Napi::Env env, Napi::Object exports) {
  Napi::Function f = DefineClass(
      env, "DeviceBuffer",
      {InstanceMethod<&DeviceBuffer::dispose>("dispose"), InstanceAccessor<&DeviceBuffer::get_bytes>("bytes"),
       InstanceAccessor<&DeviceBuffer::get_device>("device"),
       InstanceAccessor<&DeviceBuffer::get_disposed>("disposed")});
  constructors()[napi_env(env)] = Napi::Persistent(f);
  napi_add_env_cleanup_hook(env, [](void* e) { constructors().erase(static_cast<napi_env>(e)); }, napi_env(env));
  exports.Set("DeviceBuffer", f);
}

Napi::Object DeviceBuffer::create(Napi::Env env, int device, size_t bytes) {
  return constructor(env).New({Napi::Number::New(env, device), Napi::Number::New(env, double(bytes))});
}

DeviceBuffer* DeviceBuffer::of(const Napi::Value& v) {
  if (!v.IsObject()) return nullptr;
  Napi::Object o = v.As<Napi::Object>();
  const Napi::FunctionReference& ctor = constructor(v.Env());
  if (o.InstanceOf(ctor.Value())) return Unwrap(o);
  Napi::Value inner = o.Get("deviceBuffer");
  if (inner.IsObject() && inner.As<Napi::Object>().InstanceOf(ctor.Value())) return Unwrap(inner.As<Napi::Object>());
  return nullptr;
}

DeviceBuffer::DeviceBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceBuffer>(info) {
  try {
    const int64_t device = to_int(info[0], "device"), bytes = to_int(info[1], "bytes");
    if (device < 0 || device > 1023) range_error("device must be in [0, 1023], got " + std::to_string(device));
    if (bytes < 0) range_error("bytes must be >= 0, got " + std::to_string(bytes));
    ptr_ = cuda::alloc(int(device), size_t(bytes));
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

void DeviceBuffer::release_use() {
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
