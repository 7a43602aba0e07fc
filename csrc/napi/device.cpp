// Copies between TypedArrays and device buffers (what tensor.to() and toArray()
// use): marshalling only, the work runs off the event loop.
#include "../cuda/runtime.h"
#include "async.h"
#include "device_buffer.h"
#include "staging.h"
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

// copyToDevice(buffer, array) / copyToHost(buffer, array): Promise<undefined>.
Napi::Value copy(const Napi::CallbackInfo& info, bool to_device) {
  Napi::Env env = info.Env();
  return guarded(env, true, [&]() -> Napi::Value {
    DeviceBuffer* b = live_buffer(info[0]);
    HostBytes h = host_bytes(info[1], "array");
    if (h.bytes != b->bytes())
      range_error("array holds " + std::to_string(h.bytes) + " bytes but the device buffer holds " +
                  std::to_string(b->bytes()));
    OpCall call;
    call.keep_alive = {info[0], info[1]};
    call.buffers = {b};
    // The work runs on a private copy of the host bytes (copied back for a
    // download): the caller may resize or transfer the array meanwhile.
    TensorView hv;
    hv.data = h.data;
    hv.dtype = DType::U8;
    hv.ndim = 1;
    hv.shape[0] = int64_t(h.bytes);
    hv.stride[0] = 1;
    hv.capacity = int64_t(h.bytes);
    if (h.bytes) {
      call.staging = std::make_shared<Staging>(env, std::vector<Staging::Item>{{&hv, info[1], !to_device, "array"}});
      h.data = hv.data;
    }
    const int dev = b->device();
    void* d = b->data();
    call.work = [=] {
      if (to_device) cuda::upload(dev, d, h.data, h.bytes);
      else cuda::download(dev, h.data, d, h.bytes);
    };
    call.result = [](Napi::Env env, const std::vector<Napi::Value>&) -> Napi::Value { return env.Undefined(); };
    return run_op(env, true, std::move(call));
  });
}

}  // namespace

SUBQ_EXPORTS(device) {
  exports.Set("copyToDevice", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return copy(i, true); }));
  exports.Set("copyToHost", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return copy(i, false); }));
  exports.Set("cudaDeviceCount", Napi::Function::New(env, [](const Napi::CallbackInfo& i) -> Napi::Value {
    return Napi::Number::New(i.Env(), cuda::device_count());
  }));
}

}  // namespace subq::napi
