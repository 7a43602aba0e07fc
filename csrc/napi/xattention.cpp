// xattentionScores(q, k, options) and xattentionScoresSync: marshalling only.
#include "../ops/xattention.h"

#include "call.h"
#include "registry.h"

namespace subq::napi {

static XAttentionOptions parse_options(const Napi::Object& obj) {
  const std::string o = "options";
  XAttentionOptions opt;
  opt_int(obj, "stride", o, &opt.stride);
  opt_int(obj, "blockSize", o, &opt.block);
  opt_int(obj, "chunk", o, &opt.chunk);
  opt.has_scale = opt_number(obj, "scale", o, &opt.scale);
  opt.causal = opt_bool(obj, "causal", o, false);
  opt.layout = opt_layout(obj, o);
  return opt;
}

static Napi::Value xattention_scores(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  return guarded(env, async, [&]() -> Napi::Value {
    Call c(env, async);
    TensorView &q = c.tensor(info[0], "q"), &k = c.tensor(info[1], "k");
    Napi::Object opts = as_object(info[2], "options");
    const XAttentionOptions opt = parse_options(opts);
    TensorView* out = c.opt_tensor(opts, "out", true);
    c.attach();

    XAttentionParams p = xattention_prepare(q, k, opt);
    int64_t s[4];
    xattention_scores_shape(p, s);
    const size_t io = out ? c.index(out) : c.output(p.q.device, DType::F32, s, 4, &out);
    auto bind = [&] {
      p = xattention_prepare(q, k, opt);
      xattention_bind_scores(p, *out);
    };
    bind();
    if (c.stage()) bind();
    return c.run([p] { xattention_scores_run(p); }, result_pair(io, io, false, "scores", ""));
  });
}

SUBQ_EXPORTS(xattention) {
  exports.Set("xattentionScores",
              Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return xattention_scores(i, true); }));
  exports.Set("xattentionScoresSync",
              Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return xattention_scores(i, false); }));
}

}  // namespace subq::napi
