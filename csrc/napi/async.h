// Runs an op either inline (Sync twin) or on the libuv pool behind a Promise.
// The JS objects whose memory the work touches are pinned until it settles.
// Work on CUDA tensors only enqueues on the device's stream (cuda/runtime.h): it
// runs inline for both twins, and the Promise settles at once.
#pragma once
#include <napi.h>

#include <functional>
#include <memory>
#include <vector>

#include "marshal.h"

namespace subq::napi {

class Staging;

struct OpCall {
  std::function<void()> work;                        // no N-API inside
  std::vector<Napi::Value> keep_alive;               // inputs and outputs
  std::vector<DeviceBuffer*> buffers;                // device memory the work touches
  std::shared_ptr<Staging> staging;                  // async: copies of the callers' CPU memory
  bool on_device = false;                            // work only enqueues on a CUDA stream
  // On the JS thread after work; receives keep_alive back (same order).
  std::function<Napi::Value(Napi::Env, const std::vector<Napi::Value>&)> result;
};

Napi::Value run_op(Napi::Env env, bool async, OpCall call);

// An OpCall::result that returns kept[i] alone, or {first: kept[i], second: kept[j]}
// when `both`.
decltype(OpCall::result) result_pair(size_t i, size_t j, bool both, const char* first, const char* second);

// Wraps a binding body so that anything it throws (core errors, std::bad_alloc,
// any std::exception, JS errors) becomes a JS error: thrown, or a rejected Promise
// for async calls. No C++ exception reaches Node.
template <class F>
Napi::Value guarded(Napi::Env env, bool async, F&& body) {
  Napi::Value err;
  try {
    return body();
  } catch (const Napi::Error& e) {  // from JS called inside (a getter, a device allocation)
    if (!async) throw;
    err = e.Value();
  } catch (...) {
    Napi::Error e = to_js(env, std::current_exception());
    if (!async) throw e;
    err = e.Value();
  }
  auto d = Napi::Promise::Deferred::New(env);
  d.Reject(err);
  return d.Promise();
}

}  // namespace subq::napi
