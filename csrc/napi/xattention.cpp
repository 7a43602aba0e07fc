// xattentionScores(q, k, options) and xattentionScoresSync: marshalling only.
#include "../ops/xattention.h"

#include "async.h"
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
    TensorView q = to_view(info[0], "q"), k = to_view(info[1], "k");
    Napi::Object opts = as_object(info[2], "options");
    XAttentionParams p = xattention_prepare(q, k, parse_options(opts));
    int64_t s[4];
    xattention_scores_shape(p, s);
    TensorView out;
    Napi::Value out_js = out_or_new(env, opts, p.q.device, DType::F32, s, 4, &out);
    xattention_bind_scores(p, out);
    OpCall call;
    call.keep_alive = {info[0], info[1], out_js};
    call.work = [p] { xattention_scores_run(p); };
    call.result = result_pair(2, 2, false, "scores", "");
    return run_op(env, async, std::move(call));
  });
}

SUBQ_EXPORTS(xattention) {
  exports.Set("xattentionScores",
              Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return xattention_scores(i, true); }));
  exports.Set("xattentionScoresSync",
              Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return xattention_scores(i, false); }));
}

}  // namespace subq::napi
