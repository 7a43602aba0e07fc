// Runs an op either inline (Sync twin) or on the libuv pool behind a Promise.
// The JS objects whose memory the work touches are pinned until it settles.
#pragma once
#include <napi.h>

#include <functional>
#include <vector>

#include "marshal.h"

namespace subq::napi {

struct OpCall {
  std::function<void()> work;                        // no N-API inside
  std::vector<Napi::Value> keep_alive;               // inputs and outputs
  // On the JS thread after work; receives keep_alive back (same order).
  std::function<Napi::Value(Napi::Env, const std::vector<Napi::Value>&)> result;
};

Napi::Value run_op(Napi::Env env, bool async, OpCall call);

// An OpCall::result that returns kept[i] alone, or {first: kept[i], second: kept[j]}
// when `both`.
decltype(OpCall::result) result_pair(size_t i, size_t j, bool both, const char* first, const char* second);

// Wraps a binding body so core errors become JS errors (thrown, or a rejected
// Promise for async calls).
template <class F>
Napi::Value guarded(Napi::Env env, bool async, F&& body) {
  try {
    return body();
  } catch (const Error& e) {
    if (!async) throw_js(env, e);
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(to_js(env, e.kind(), e.what()).Value());
    return d.Promise();
  } catch (const Napi::Error& e) {  // from JS called inside, e.g. a device allocation
    if (!async) throw;
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(e.Value());
    return d.Promise();
  }
}

}  // namespace subq::napi
