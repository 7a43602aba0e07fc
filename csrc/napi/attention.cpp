// attention(q, k, v, options) and attentionSync: marshalling only.
#include "../ops/attention.h"

#include "call.h"
#include "registry.h"

namespace subq::napi {

static AttentionOptions parse_options(const Napi::Object& obj) {
  const std::string o = "options";
  AttentionOptions opt;
  opt.has_scale = opt_number(obj, "scale", o, &opt.scale);
  opt_number(obj, "softcap", o, &opt.softcap);
  opt.causal = opt_bool(obj, "causal", o, false);
  opt.return_lse = opt_bool(obj, "returnLse", o, false);
  Napi::Value w = obj.Get("window");
  if (!w.IsUndefined()) {
    if (!w.IsArray() || w.As<Napi::Array>().Length() != 2)
      type_error("options.window must be an array [left, right] (-1 = unlimited)");
    Napi::Array a = w.As<Napi::Array>();
    opt.window_left = to_int(a.Get(0u), "options.window[0]");
    opt.window_right = to_int(a.Get(1u), "options.window[1]");
  }
  opt.layout = opt_layout(obj, o);
  return opt;
}

static Napi::Value attention(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  return guarded(env, async, [&]() -> Napi::Value {
    Call c(env, async);
    TensorView &q = c.tensor(info[0], "q"), &k = c.tensor(info[1], "k"), &v = c.tensor(info[2], "v");
    Napi::Object opts = as_object(info[3], "options");
    const AttentionOptions opt = parse_options(opts);
    TensorView* out = c.opt_tensor(opts, "out", true);
    c.attach();

    AttentionParams p = attention_prepare(q, k, v, opt);
    int64_t s[4], l[3];
    attention_out_shape(p, s);
    attention_lse_shape(p, l);
    const size_t io = out ? c.index(out) : c.output(p.q.device, p.q.dtype, s, 4, &out);
    TensorView* lse = nullptr;
    const size_t il = opt.return_lse ? c.output(p.q.device, DType::F32, l, 3, &lse) : io;
    auto bind = [&] {
      p = attention_prepare(q, k, v, opt);
      attention_bind_outputs(p, *out, lse);
    };
    bind();
    if (c.stage()) bind();
    return c.run([p] { attention_run(p); }, result_pair(io, il, opt.return_lse, "out", "lse"));
  });
}

SUBQ_EXPORTS(attention) {
  exports.Set("attention", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return attention(i, true); }));
  exports.Set("attentionSync", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return attention(i, false); }));
}

}  // namespace subq::napi
