// selectiveScan, selectiveStateUpdate, causalConv1d, causalConv1dUpdate (each with a
// Sync twin): marshalling only.
#include "../ops/ssm.h"

#include "call.h"
#include "registry.h"

namespace subq::napi {

namespace {

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

// Each binding reads its arguments into a Call, attaches them, then prepares and
// binds through `bind`, which reads the views afresh (they move when staged).

Napi::Value scan(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  return guarded(env, async, [&]() -> Napi::Value {
    Call c(env, async);
    TensorView &u = c.tensor(info[0], "u"), &delta = c.tensor(info[1], "delta"), &A = c.tensor(info[2], "A"),
               &B = c.tensor(info[3], "B"), &C = c.tensor(info[4], "C");
    const std::string on = "options";
    Napi::Object o = as_object(info[5], on);
    SelectiveScanInputs in;
    in.D = c.opt_tensor(o, "D");
    in.z = c.opt_tensor(o, "z");
    in.delta_bias = c.opt_tensor(o, "deltaBias");
    in.initial_state = c.opt_tensor(o, "initialState");
    in.cu_seqlens = c.opt_tensor(o, "cuSeqlens");
    in.softplus = opt_bool(o, "deltaSoftplus", on, false);
    in.return_last_state = opt_bool(o, "returnLastState", on, false);
    TensorView* out = c.opt_tensor(o, "out", true);
    c.attach();

    auto prepare = [&] {
      in.u = u, in.delta = delta, in.A = A, in.B = B, in.C = C;
      return selective_scan_prepare(in);
    };
    SelectiveScanParams p = prepare();
    int64_t s[3];
    selective_scan_out_shape(p, s);
    const size_t io = out ? c.index(out) : c.output(p.u.device, p.u.dtype, s, 3, &out);
    TensorView* last = nullptr;
    selective_scan_state_shape(p, s);
    const size_t il = in.return_last_state ? c.output(p.u.device, DType::F32, s, 3, &last) : io;
    auto bind = [&] {
      p = prepare();
      selective_scan_bind_outputs(p, *out, last);
    };
    bind();
    if (c.stage()) bind();
    return c.run([p] { selective_scan_run(p); }, result_pair(io, il, in.return_last_state, "out", "lastState"));
  });
}

Napi::Value state_update(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  return guarded(env, async, [&]() -> Napi::Value {
    Call c(env, async);
    TensorView &state = c.tensor(info[0], "state", true), &x = c.tensor(info[1], "x"), &dt = c.tensor(info[2], "dt"),
               &A = c.tensor(info[3], "A"), &B = c.tensor(info[4], "B"), &C = c.tensor(info[5], "C");
    const std::string on = "options";
    Napi::Object o = as_object(info[6], on);
    StateUpdateInputs in;
    in.D = c.opt_tensor(o, "D");
    in.z = c.opt_tensor(o, "z");
    in.dt_bias = c.opt_tensor(o, "dtBias");
    in.state_indices = c.opt_tensor(o, "stateIndices");
    in.softplus = opt_bool(o, "dtSoftplus", on, false);
    TensorView* out = c.opt_tensor(o, "out", true);
    c.attach();

    auto prepare = [&] {
      in.state = state, in.x = x, in.dt = dt, in.A = A, in.B = B, in.C = C;
      return state_update_prepare(in);
    };
    StateUpdateParams p = prepare();
    int64_t s[2];
    state_update_out_shape(p, s);
    const size_t io = out ? c.index(out) : c.output(p.x.device, p.x.dtype, s, 2, &out);
    auto bind = [&] {
      p = prepare();
      state_update_bind_output(p, *out);
    };
    bind();
    if (c.stage()) bind();
    return c.run([p] { state_update_run(p); }, result_pair(io, io, false, "out", ""));
  });
}

Napi::Value conv1d(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  return guarded(env, async, [&]() -> Napi::Value {
    Call c(env, async);
    TensorView &x = c.tensor(info[0], "x"), &weight = c.tensor(info[1], "weight");
    const std::string on = "options";
    Napi::Object o = as_object(info[2], on);
    Conv1dInputs in;
    in.bias = c.opt_tensor(o, "bias");
    in.initial_states = c.opt_tensor(o, "initialStates");
    in.cu_seqlens = c.opt_tensor(o, "cuSeqlens");
    in.silu = activation(o);
    in.return_final_states = opt_bool(o, "returnFinalStates", on, false);
    TensorView* out = c.opt_tensor(o, "out", true);
    c.attach();

    auto prepare = [&] {
      in.x = x, in.weight = weight;
      return conv1d_prepare(in);
    };
    Conv1dParams p = prepare();
    int64_t s[3];
    conv1d_out_shape(p, s);
    const size_t io = out ? c.index(out) : c.output(p.x.device, p.x.dtype, s, 3, &out);
    TensorView* fin = nullptr;
    conv1d_state_shape(p, s);
    const size_t iff = in.return_final_states ? c.output(p.x.device, p.x.dtype, s, 3, &fin) : io;
    auto bind = [&] {
      p = prepare();
      conv1d_bind_outputs(p, *out, fin);
    };
    bind();
    if (c.stage()) bind();
    return c.run([p] { conv1d_run(p); }, result_pair(io, iff, in.return_final_states, "out", "finalStates"));
  });
}

Napi::Value conv1d_update(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  return guarded(env, async, [&]() -> Napi::Value {
    Call c(env, async);
    TensorView &x = c.tensor(info[0], "x"), &conv_state = c.tensor(info[1], "convState", true),
               &weight = c.tensor(info[2], "weight");
    const std::string on = "options";
    Napi::Object o = as_object(info[3], on);
    Conv1dUpdateInputs in;
    in.bias = c.opt_tensor(o, "bias");
    in.state_indices = c.opt_tensor(o, "stateIndices");
    in.silu = activation(o);
    TensorView* out = c.opt_tensor(o, "out", true);
    c.attach();

    auto prepare = [&] {
      in.x = x, in.conv_state = conv_state, in.weight = weight;
      return conv1d_update_prepare(in);
    };
    Conv1dUpdateParams p = prepare();
    int64_t s[3];
    conv1d_update_out_shape(p, s);
    const size_t io = out ? c.index(out) : c.output(p.x.device, p.x.dtype, s, p.x_ndim, &out);
    auto bind = [&] {
      p = prepare();
      conv1d_update_bind_output(p, *out);
    };
    bind();
    if (c.stage()) bind();
    return c.run([p] { conv1d_update_run(p); }, result_pair(io, io, false, "out", ""));
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
