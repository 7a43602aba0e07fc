// selectiveScan, selectiveStateUpdate, causalConv1d, causalConv1dUpdate (each with a
// Sync twin): marshalling only.
#include "../ops/ssm.h"

#include "async.h"
#include "registry.h"

namespace subq::napi {

namespace {

// An optional tensor in the options object; pins its JS value when present.
struct OptTensor {
  TensorView view;
  bool present = false;
  const TensorView* ptr() const { return present ? &view : nullptr; }
};

OptTensor opt_tensor(const Napi::Object& o, const char* key, OpCall& call) {
  OptTensor t;
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return t;
  t.view = to_view(v, std::string("options.") + key);
  t.present = true;
  call.keep_alive.push_back(v);
  return t;
}

// 'silu' / 'swish' or none ('none', null, false, undefined).
bool activation(const Napi::Object& o) {
  Napi::Value v = o.Get("activation");
  if (v.IsUndefined() || v.IsNull()) return false;
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value();
  if (!v.IsString()) type_error("options.activation must be 'silu', 'swish' or 'none'");
  const std::string s = v.As<Napi::String>().Utf8Value();
  if (s == "silu" || s == "swish") return true;
  if (s == "none") return false;
  range_error("options.activation must be 'silu', 'swish' or 'none', got '" + s + "'");
}


Napi::Value scan(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  return guarded(env, async, [&]() -> Napi::Value {
    OpCall call;
    SelectiveScanInputs in;
    in.u = to_view(info[0], "u");
    in.delta = to_view(info[1], "delta");
    in.A = to_view(info[2], "A");
    in.B = to_view(info[3], "B");
    in.C = to_view(info[4], "C");
    const std::string on = "options";
    Napi::Object o = as_object(info[5], on);
    OptTensor D = opt_tensor(o, "D", call), z = opt_tensor(o, "z", call), bias = opt_tensor(o, "deltaBias", call),
              init = opt_tensor(o, "initialState", call), cu = opt_tensor(o, "cuSeqlens", call);
    in.D = D.ptr();
    in.z = z.ptr();
    in.delta_bias = bias.ptr();
    in.initial_state = init.ptr();
    in.cu_seqlens = cu.ptr();
    in.softplus = opt_bool(o, "deltaSoftplus", on, false);
    in.return_last_state = opt_bool(o, "returnLastState", on, false);
    SelectiveScanParams p = selective_scan_prepare(in);

    int64_t s[3];
    selective_scan_out_shape(p, s);
    TensorView out, last;
    Napi::Value out_js = out_or_new(env, o, p.u.device, p.u.dtype, s, 3, &out), last_js = env.Undefined();
    if (in.return_last_state) {
      selective_scan_state_shape(p, s);
      last_js = new_tensor(env, p.u.device, DType::F32, s, 3, &last);
    }
    selective_scan_bind_outputs(p, out, in.return_last_state ? &last : nullptr);
    for (int i = 0; i < 5; ++i) call.keep_alive.push_back(info[i]);
    const size_t io = call.keep_alive.size();
    call.keep_alive.push_back(out_js);
    call.keep_alive.push_back(last_js);
    call.work = [p] { selective_scan_run(p); };
    call.result = result_pair(io, io + 1, in.return_last_state, "out", "lastState");
    return run_op(env, async, std::move(call));
  });
}

Napi::Value state_update(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  return guarded(env, async, [&]() -> Napi::Value {
    OpCall call;
    StateUpdateInputs in;
    in.state = to_view(info[0], "state");
    in.x = to_view(info[1], "x");
    in.dt = to_view(info[2], "dt");
    in.A = to_view(info[3], "A");
    in.B = to_view(info[4], "B");
    in.C = to_view(info[5], "C");
    const std::string on = "options";
    Napi::Object o = as_object(info[6], on);
    OptTensor D = opt_tensor(o, "D", call), z = opt_tensor(o, "z", call), bias = opt_tensor(o, "dtBias", call),
              idx = opt_tensor(o, "stateIndices", call);
    in.D = D.ptr();
    in.z = z.ptr();
    in.dt_bias = bias.ptr();
    in.state_indices = idx.ptr();
    in.softplus = opt_bool(o, "dtSoftplus", on, false);
    StateUpdateParams p = state_update_prepare(in);

    int64_t s[2];
    state_update_out_shape(p, s);
    TensorView out;
    Napi::Value out_js = out_or_new(env, o, p.x.device, p.x.dtype, s, 2, &out);
    state_update_bind_output(p, out);
    for (int i = 0; i < 6; ++i) call.keep_alive.push_back(info[i]);
    const size_t io = call.keep_alive.size();
    call.keep_alive.push_back(out_js);
    call.work = [p] { state_update_run(p); };
    call.result = result_pair(io, io, false, "out", "");
    return run_op(env, async, std::move(call));
  });
}

Napi::Value conv1d(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  return guarded(env, async, [&]() -> Napi::Value {
    OpCall call;
    Conv1dInputs in;
    in.x = to_view(info[0], "x");
    in.weight = to_view(info[1], "weight");
    const std::string on = "options";
    Napi::Object o = as_object(info[2], on);
    OptTensor bias = opt_tensor(o, "bias", call), init = opt_tensor(o, "initialStates", call),
              cu = opt_tensor(o, "cuSeqlens", call);
    in.bias = bias.ptr();
    in.initial_states = init.ptr();
    in.cu_seqlens = cu.ptr();
    in.silu = activation(o);
    in.return_final_states = opt_bool(o, "returnFinalStates", on, false);
    Conv1dParams p = conv1d_prepare(in);

    int64_t s[3];
    conv1d_out_shape(p, s);
    TensorView out, fin;
    Napi::Value out_js = out_or_new(env, o, p.x.device, p.x.dtype, s, 3, &out), fin_js = env.Undefined();
    if (in.return_final_states) {
      conv1d_state_shape(p, s);
      fin_js = new_tensor(env, p.x.device, p.x.dtype, s, 3, &fin);
    }
    conv1d_bind_outputs(p, out, in.return_final_states ? &fin : nullptr);
    for (int i = 0; i < 2; ++i) call.keep_alive.push_back(info[i]);
    const size_t io = call.keep_alive.size();
    call.keep_alive.push_back(out_js);
    call.keep_alive.push_back(fin_js);
    call.work = [p] { conv1d_run(p); };
    call.result = result_pair(io, io + 1, in.return_final_states, "out", "finalStates");
    return run_op(env, async, std::move(call));
  });
}

Napi::Value conv1d_update(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  return guarded(env, async, [&]() -> Napi::Value {
    OpCall call;
    Conv1dUpdateInputs in;
    in.x = to_view(info[0], "x");
    in.conv_state = to_view(info[1], "convState");
    in.weight = to_view(info[2], "weight");
    const std::string on = "options";
    Napi::Object o = as_object(info[3], on);
    OptTensor bias = opt_tensor(o, "bias", call), idx = opt_tensor(o, "stateIndices", call);
    in.bias = bias.ptr();
    in.state_indices = idx.ptr();
    in.silu = activation(o);
    Conv1dUpdateParams p = conv1d_update_prepare(in);

    int64_t s[3];
    conv1d_update_out_shape(p, s);
    TensorView out;
    Napi::Value out_js = out_or_new(env, o, p.x.device, p.x.dtype, s, p.x_ndim, &out);
    conv1d_update_bind_output(p, out);
    for (int i = 0; i < 3; ++i) call.keep_alive.push_back(info[i]);
    const size_t io = call.keep_alive.size();
    call.keep_alive.push_back(out_js);
    call.work = [p] { conv1d_update_run(p); };
    call.result = result_pair(io, io, false, "out", "");
    return run_op(env, async, std::move(call));
  });
}

template <Napi::Value (*F)(const Napi::CallbackInfo&, bool), bool Async>
Napi::Value bind(const Napi::CallbackInfo& info) {
  return F(info, Async);
}

}  // namespace

SUBQ_EXPORTS(ssm) {
  exports.Set("selectiveScan", Napi::Function::New(env, bind<scan, true>));
  exports.Set("selectiveScanSync", Napi::Function::New(env, bind<scan, false>));
  exports.Set("selectiveStateUpdate", Napi::Function::New(env, bind<state_update, true>));
  exports.Set("selectiveStateUpdateSync", Napi::Function::New(env, bind<state_update, false>));
  exports.Set("causalConv1d", Napi::Function::New(env, bind<conv1d, true>));
  exports.Set("causalConv1dSync", Napi::Function::New(env, bind<conv1d, false>));
  exports.Set("causalConv1dUpdate", Napi::Function::New(env, bind<conv1d_update, true>));
  exports.Set("causalConv1dUpdateSync", Napi::Function::New(env, bind<conv1d_update, false>));
}

}  // namespace subq::napi
