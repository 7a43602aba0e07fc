#include "async.h"

#include <exception>
#include <string>

#include "../core/cancel.h"
#include "device_buffer.h"
#include "env_data.h"
#include "staging.h"

namespace subq::napi {

namespace {

class OpWorker : public Napi::AsyncWorker {
 public:
  OpWorker(Napi::Env env, OpCall call)
      : Napi::AsyncWorker(env, "subquadratic"),
        deferred_(Napi::Promise::Deferred::New(env)),
        call_(std::move(call)),
        closing_(env_data(env).closing) {
    // References hold objects only; other values (undefined) come back as undefined.
    for (auto& v : call_.keep_alive) refs_.push_back(v.IsObject() ? Napi::Persistent(v) : Napi::Reference<Napi::Value>());
    // Device memory the work touches stays allocated even if disposed meanwhile.
    for (DeviceBuffer* b : call_.buffers) b->acquire();
    call_.keep_alive.clear();  // handles of the queueing scope die with it
  }
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    if (closing_->load()) {
      error_ = std::make_exception_ptr(Error(ErrorKind::Runtime, "the call was cancelled: its environment is shutting down",
                                             ErrorCode::Cancelled));
      return;
    }
    try {
      CancelScope scope(closing_.get());
      call_.work();
    } catch (...) {
      error_ = std::current_exception();
    }
  }

  // Replaces the base class's completion, which lets a failing N-API call throw out
  // of a libuv callback (std::terminate) when the environment is being torn down
  // (a worker's terminate(), process.exit()). Nothing here may throw.
  void OnWorkComplete(Napi::Env env, napi_status status) override {
    try {
      Napi::HandleScope scope(env);
      for (DeviceBuffer* b : call_.buffers) b->release_use();
      call_.buffers.clear();
      if (status == napi_cancelled || closing_->load()) {
        staging_done();
        return;  // nobody can observe the promise any more
      }
      settle(env);
    } catch (...) {
    }
    Destroy();
  }

 private:
  void settle(Napi::Env env) {
    Napi::Value result;
    try {
      if (error_) std::rethrow_exception(error_);
      if (call_.staging) call_.staging->write_back(env);
      std::vector<Napi::Value> kept;
      for (auto& r : refs_) kept.push_back(r.IsEmpty() ? env.Undefined() : r.Value());
      result = call_.result(env, kept);
    } catch (const Napi::Error& e) {
      staging_done();
      deferred_.Reject(e.Value());
      return;
    } catch (...) {
      staging_done();
      deferred_.Reject(to_js(env, std::current_exception()).Value());
      return;
    }
    staging_done();
    deferred_.Resolve(result);
  }
  void staging_done() { call_.staging.reset(); }

  Napi::Promise::Deferred deferred_;
  OpCall call_;
  std::shared_ptr<std::atomic<bool>> closing_;
  std::vector<Napi::Reference<Napi::Value>> refs_;
  std::exception_ptr error_;
};

}  // namespace

Napi::Value run_op(Napi::Env env, bool async, OpCall call) {
  if (!async || call.on_device) {
    // No cancellation: nothing can set the flag while this thread runs the call (a
    // 'exit' handler would, after it, and later Sync calls there must still work).
    // Device work enqueued inline needs no pinning: frees are stream-ordered too.
    try {
      call.work();
    } catch (...) {
      throw to_js(env, std::current_exception());
    }
    Napi::Value result = call.result(env, call.keep_alive);
    if (!async) return result;
    // Enqueued: the Promise resolves now. Stream order makes the outputs usable as
    // inputs of the next op; the host waits only where it reads them.
    auto d = Napi::Promise::Deferred::New(env);
    d.Resolve(result);
    return d.Promise();
  }
  auto* w = new OpWorker(env, std::move(call));
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

decltype(OpCall::result) result_pair(size_t i, size_t j, bool both, const char* first, const char* second) {
  return [=](Napi::Env env, const std::vector<Napi::Value>& kept) -> Napi::Value {
    if (!both) return kept[i];
    Napi::Object r = Napi::Object::New(env);
    r.Set(first, kept[i]);
    r.Set(second, kept[j]);
    return r;
  };
}

}  // namespace subq::napi
