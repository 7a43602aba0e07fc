#include "async.h"

#include <exception>
#include <string>

#include "device_buffer.h"

namespace subq::napi {

namespace {

class OpWorker : public Napi::AsyncWorker {
 public:
  OpWorker(Napi::Env env, OpCall call)
      : Napi::AsyncWorker(env, "subquadratic"), deferred_(Napi::Promise::Deferred::New(env)), call_(std::move(call)) {
    // References hold objects only; other values (undefined) come back as undefined.
    for (auto& v : call_.keep_alive) {
      refs_.push_back(v.IsObject() ? Napi::Persistent(v) : Napi::Reference<Napi::Value>());
      // Device memory the work touches stays allocated even if disposed meanwhile.
      if (DeviceBuffer* b = DeviceBuffer::of(v)) {
        b->acquire();
        buffers_.push_back(b);
      }
    }
  }
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      call_.work();
    } catch (const Error& e) {
      failed_ = true;
      kind_ = e.kind();
      msg_ = e.what();
    } catch (const std::bad_alloc&) {
      failed_ = true;
      kind_ = ErrorKind::Range;
      msg_ = "out of memory";
    } catch (const std::exception& e) {
      failed_ = true;
      kind_ = ErrorKind::Runtime;
      msg_ = e.what();
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    call_.keep_alive.clear();  // handles from the queueing scope are dead now
    for (DeviceBuffer* b : buffers_) b->release_use();
    if (failed_) return deferred_.Reject(to_js(env, kind_, msg_).Value());
    try {
      std::vector<Napi::Value> kept;
      for (auto& r : refs_) kept.push_back(r.IsEmpty() ? env.Undefined() : r.Value());
      deferred_.Resolve(call_.result(env, kept));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

 private:
  Napi::Promise::Deferred deferred_;
  OpCall call_;
  std::vector<Napi::Reference<Napi::Value>> refs_;
  std::vector<DeviceBuffer*> buffers_;
  bool failed_ = false;
  ErrorKind kind_ = ErrorKind::Runtime;
  std::string msg_;
};

}  // namespace

Napi::Value run_op(Napi::Env env, bool async, OpCall call) {
  if (!async) {
    try {
      call.work();
    } catch (const Error& e) {
      throw_js(env, e);
    } catch (const std::bad_alloc&) {
      throw Napi::RangeError::New(env, "out of memory");
    }
    return call.result(env, call.keep_alive);
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
