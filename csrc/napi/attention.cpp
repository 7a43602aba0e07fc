// attention(q, k, v, options), blockSparseAttention(q, k, v, mask, options) and their
// Sync twins: marshalling only.
#include "../ops/attention.h"
#include "../ops/sparse.h"

#include "async.h"
#include "registry.h"

namespace subq::napi {

static AttentionOptions parse_options(const Napi::Value& v) {
  const std::string o = "options";
  Napi::Object obj = as_object(v, o);
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

// blockSparseAttention's mask ({indices, counts} or null) and its options.
static void bind_mask(AttentionParams& p, const Napi::Value& mask, const Napi::Object& opts, OpCall& call) {
  BlockSparseOptions so;
  opt_int(opts, "blockSize", "options", &so.block);
  opt_int(opts, "sinkBlocks", "options", &so.sink_blocks);
  opt_int(opts, "localBlocks", "options", &so.local_blocks);
  opt_int(opts, "maskKeyBlocks", "options", &so.mask_key_blocks);
  TensorView indices, counts, modes;
  const bool has_mask = !mask.IsNull() && !mask.IsUndefined();
  if (has_mask) {
    Napi::Object m = as_object(mask, "mask");
    indices = to_view(m.Get("indices"), "mask.indices");
    counts = to_view(m.Get("counts"), "mask.counts");
    call.keep_alive.push_back(m.Get("indices"));
    call.keep_alive.push_back(m.Get("counts"));
  }
  Napi::Value modes_js = opts.Get("headModes");
  const bool has_modes = !modes_js.IsUndefined() && !modes_js.IsNull();
  if (has_modes) {
    modes = to_view(modes_js, "options.headModes");
    call.keep_alive.push_back(modes_js);
  }
  block_sparse_bind_mask(p, has_mask ? &indices : nullptr, has_mask ? &counts : nullptr, has_modes ? &modes : nullptr,
                         so);
}

static Napi::Value attention(const Napi::CallbackInfo& info, bool async, bool sparse) {
  Napi::Env env = info.Env();
  return guarded(env, async, [&]() -> Napi::Value {
    const Napi::Value opts_js = info[sparse ? 4 : 3];
    TensorView q = to_view(info[0], "q"), k = to_view(info[1], "k"), v = to_view(info[2], "v");
    AttentionOptions opt = parse_options(opts_js);
    AttentionParams p = attention_prepare(q, k, v, opt);

    OpCall call;
    call.keep_alive = {info[0], info[1], info[2]};
    Napi::Object opts = as_object(opts_js, "options");
    int64_t s[4];
    attention_out_shape(p, s);
    TensorView out;
    Napi::Value out_js = out_or_new(env, opts, p.q.device, p.q.dtype, s, 4, &out);
    TensorView lse;
    Napi::Value lse_js = env.Undefined();
    if (opt.return_lse) {
      int64_t l[3];
      attention_lse_shape(p, l);
      lse_js = new_tensor(env, p.q.device, DType::F32, l, 3, &lse);
    }
    attention_bind_outputs(p, out, opt.return_lse ? &lse : nullptr);
    call.keep_alive.push_back(out_js);  // [3]
    call.keep_alive.push_back(lse_js);  // [4]
    if (sparse) bind_mask(p, info[3], opts, call);
    call.work = [p] { attention_run(p); };
    call.result = result_pair(3, 4, opt.return_lse, "out", "lse");
    return run_op(env, async, std::move(call));
  });
}

SUBQ_EXPORTS(attention) {
  using Info = const Napi::CallbackInfo&;
  exports.Set("attention", Napi::Function::New(env, [](Info i) { return attention(i, true, false); }));
  exports.Set("attentionSync", Napi::Function::New(env, [](Info i) { return attention(i, false, false); }));
  exports.Set("blockSparseAttention", Napi::Function::New(env, [](Info i) { return attention(i, true, true); }));
  exports.Set("blockSparseAttentionSync", Napi::Function::New(env, [](Info i) { return attention(i, false, true); }));
}

}  // namespace subq::napi
