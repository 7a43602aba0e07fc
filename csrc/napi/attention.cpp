// attention(q, k, v, options), blockSparseAttention(q, k, v, mask, options) and their
// Sync twins: marshalling only.
#include "../ops/attention.h"
#include "../ops/sparse.h"

#include "call.h"
#include "mask_args.h"
#include "registry.h"

namespace subq::napi {

AttentionOptions read_attention_options(const Napi::Object& obj) {
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

MaskArgs read_mask(Call& c, const Napi::Value& mask, const Napi::Object& opts, bool allow_dense) {
  MaskArgs a;
  opt_int(opts, "blockSize", "options", &a.opt.block);
  opt_int(opts, "sinkBlocks", "options", &a.opt.sink_blocks);
  opt_int(opts, "localBlocks", "options", &a.opt.local_blocks);
  opt_int(opts, "maskKeyBlocks", "options", &a.opt.mask_key_blocks);
  if (!mask.IsNull() && !mask.IsUndefined()) {
    Napi::Object m = as_object(mask, "mask");
    if (allow_dense && !m.Has("indices")) {
      a.dense = &c.tensor(mask, "mask");
    } else {
      a.indices = &c.tensor(m.Get("indices"), "mask.indices");
      a.counts = &c.tensor(m.Get("counts"), "mask.counts");
    }
  }
  a.modes = c.opt_tensor(opts, "headModes");
  return a;
}

static Napi::Value attention(const Napi::CallbackInfo& info, bool async, bool sparse) {
  Napi::Env env = info.Env();
  return guarded(env, async, [&]() -> Napi::Value {
    Call c(env, async);
    TensorView &q = c.tensor(info[0], "q"), &k = c.tensor(info[1], "k"), &v = c.tensor(info[2], "v");
    Napi::Object opts = as_object(info[sparse ? 4 : 3], "options");
    const AttentionOptions opt = read_attention_options(opts);
    TensorView* out = c.opt_tensor(opts, "out", true);
    const MaskArgs mask = sparse ? read_mask(c, info[3], opts, true) : MaskArgs{};
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
      if (sparse) block_sparse_bind_mask(p, mask.indices, mask.counts, mask.modes, mask.opt, mask.dense);
    };
    bind();
    if (c.stage()) bind();
    return c.run([p] { attention_run(p); }, result_pair(io, il, opt.return_lse, "out", "lse"));
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
