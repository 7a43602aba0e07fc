// The tensors of one op call, and the order that keeps their memory safe:
//   1. read every argument (tensor(), opt_tensor(), options): this runs user
//      JavaScript, which may resize, transfer or detach any ArrayBuffer;
//   2. attach(): take the memory of all of them, with no JavaScript in between
//      (from here on nothing the binding does runs user JavaScript);
//   3. validate and bind (ops/), allocate new outputs (output());
//   4. stage() for async calls, then validate and bind again on the staged views;
//   5. run().
// An async call works on private copies of the callers' CPU memory, because the
// caller may resize or transfer a buffer while the work runs; tensors the op
// writes are copied back when it settles, if their buffer is still the same. An op
// on CUDA tensors is only enqueued, on the calling thread (async.h), so it needs
// no copies.
#pragma once
#include <napi.h>

#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "async.h"
#include "marshal.h"

namespace subq::napi {

class Call {
 public:
  Call(Napi::Env env, bool async) : env_(env), async_(async) {}

  // A tensor argument named `name`; `written` when the op writes it (out, a state).
  TensorView& tensor(const Napi::Value& v, const std::string& name, bool written = false);
  // o[key] as "options.<key>" when it is neither undefined nor null, else null.
  TensorView* opt_tensor(const Napi::Object& o, const char* key, bool written = false);
  void attach();
  // A new contiguous output; its index for result_pair().
  size_t output(Device device, DType dtype, const int64_t* shape, int ndim, TensorView** view);
  // The result index of a tensor argument's view (e.g. the caller's out).
  size_t index(const TensorView* view) const;
  // Async CPU calls: moves the views onto private copies (so validate and bind
  // again); false when nothing moved.
  bool stage();
  Napi::Value run(std::function<void()> work, decltype(OpCall::result) result);

 private:
  // Whether the op runs on a CUDA device (validation refuses mixed devices).
  bool on_device() const;
  struct Arg {
    JsTensor js;
    bool written = false;
    bool owned = false;  // a new output: nobody else can reach its memory yet
  };
  Napi::Env env_;
  bool async_;
  std::deque<Arg> args_;  // stable addresses for the views handed out
  std::shared_ptr<Staging> staging_;
};

}  // namespace subq::napi
