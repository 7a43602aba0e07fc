#include "call.h"

#include "device_buffer.h"
#include "staging.h"

namespace subq::napi {

TensorView& Call::tensor(const Napi::Value& v, const std::string& name, bool written) {
  args_.push_back(Arg{read_tensor(v, name), written, false});
  return args_.back().js.view;
}

TensorView* Call::opt_tensor(const Napi::Object& o, const char* key, bool written) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return nullptr;
  return &tensor(v, std::string("options.") + key, written);
}

void Call::attach() {
  for (Arg& a : args_) napi::attach(env_, a.js);
}

size_t Call::output(Device device, DType dtype, const int64_t* shape, int ndim, TensorView** view) {
  Arg a;
  a.owned = true;
  a.written = true;
  a.js.value = new_tensor(env_, device, dtype, shape, ndim, &a.js.view);
  args_.push_back(std::move(a));
  *view = &args_.back().js.view;
  return args_.size() - 1;
}

size_t Call::index(const TensorView* view) const {
  for (size_t i = 0; i < args_.size(); ++i)
    if (&args_[i].js.view == view) return i;
  return 0;
}

bool Call::on_device() const {
  for (const Arg& a : args_)
    if (a.js.buffer) return true;
  return false;
}

bool Call::stage() {
  // Device work is enqueued on this thread before the call returns: the CPU
  // memory it reads (index tables) is read now, so nothing needs a copy.
  if (!async_ || on_device()) return false;
  std::vector<Staging::Item> items;
  for (Arg& a : args_)
    if (!a.owned && a.js.array) items.push_back({&a.js.view, a.js.array, a.written, a.js.name});
  if (items.empty()) return false;
  staging_ = std::make_shared<Staging>(env_, items);
  return true;
}

Napi::Value Call::run(std::function<void()> work, decltype(OpCall::result) result) {
  OpCall call;
  call.work = std::move(work);
  call.result = std::move(result);
  call.staging = staging_;
  call.on_device = on_device();
  for (Arg& a : args_) {
    call.keep_alive.push_back(a.js.value);
    if (a.js.buffer) call.buffers.push_back(a.js.buffer);
  }
  return run_op(env_, async_, std::move(call));
}

}  // namespace subq::napi
