// xattentionScores(q, k, options), xattentionScoresSync and xattentionMaskSync(scores,
// options): marshalling only.
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

static XSelectOptions parse_select_options(const Napi::Value& v) {
  if (!v.IsObject() || v.IsArray())
    type_error(std::string("options must be an object with a threshold, got ") + (v.IsNull() ? "null" : v.IsUndefined() ? "undefined" : "a non-object"));
  const Napi::Object obj = v.As<Napi::Object>();
  const std::string o = "options";
  XSelectOptions opt;
  const Napi::Value t = obj.Get("threshold");
  if (t.IsNumber()) {
    opt.thresholds = {t.As<Napi::Number>().DoubleValue()};
  } else if (t.IsArray()) {
    const Napi::Array a = t.As<Napi::Array>();
    opt.per_head = true;
    for (uint32_t i = 0; i < a.Length(); ++i) {
      const Napi::Value x = a.Get(i);
      if (!x.IsNumber()) type_error("options.threshold[" + std::to_string(i) + "] must be a number");
      opt.thresholds.push_back(x.As<Napi::Number>().DoubleValue());
    }
  } else {
    type_error("options.threshold must be a number or an array of numbers (one per head)");
  }
  opt.causal = opt_bool(obj, "causal", o, false);
  opt.keep_sink = opt_bool(obj, "keepSink", o, true);
  opt.keep_recent = opt_bool(obj, "keepRecent", o, true);
  return opt;
}

// Returns { mask, counts, keptPerHead, visiblePerHead }: the uint8 mask and int32 row
// counts on the scores' device, and per head the kept and visible blocks as numbers.
static Napi::Value xattention_mask(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, false, [&]() -> Napi::Value {
    Call c(env, false);
    TensorView& scores = c.tensor(info[0], "scores");
    auto opt = std::make_shared<XSelectOptions>(parse_select_options(info[1]));
    c.attach();

    XSelectParams p = xattention_select_prepare(scores, *opt);
    int64_t ms[4], cs[3];
    xattention_select_shapes(p, ms, cs);
    TensorView *mask = nullptr, *counts = nullptr;
    const size_t im = c.output(scores.device, DType::U8, ms, 4, &mask);
    const size_t ic = c.output(scores.device, DType::I32, cs, 3, &counts);
    xattention_bind_select(p, *mask, *counts);
    return c.run([p, opt] { xattention_select_run(p); },
                 [p, opt, im, ic](Napi::Env e, const std::vector<Napi::Value>& kept) -> Napi::Value {
                   const BlockTotals t = xattention_select_totals(p);
                   Napi::Object r = Napi::Object::New(e);
                   r.Set("mask", kept[im]);
                   r.Set("counts", kept[ic]);
                   r.Set("keptPerHead", number_array(e, t.kept.data(), int(t.kept.size())));
                   r.Set("visiblePerHead", number_array(e, t.visible.data(), int(t.visible.size())));
                   return r;
                 });
  });
}

SUBQ_EXPORTS(xattention) {
  exports.Set("xattentionMaskSync", Napi::Function::New(env, xattention_mask));
  exports.Set("xattentionScores",
              Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return xattention_scores(i, true); }));
  exports.Set("xattentionScoresSync",
              Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return xattention_scores(i, false); }));
}

}  // namespace subq::napi
