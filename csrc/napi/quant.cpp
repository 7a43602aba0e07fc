// quantize(x, options), dequantize(x, options), quantizedAttention(q, k, v, options) and
// their Sync twins: marshalling only.
#include "../ops/quant.h"

#include "call.h"
#include "mask_args.h"
#include "registry.h"

namespace subq::napi {

namespace {

bool is_quantized(const Napi::Value& v) { return v.IsObject() && v.As<Napi::Object>().Has("scales"); }

// 'block' (default) or 'token'.
bool per_token(const Napi::Object& o, const std::string& owner) {
  std::string g;
  if (!opt_string(o, "granularity", owner, &g) || g == "block") return false;
  if (g == "token") return true;
  range_error(owner + ".granularity must be 'block' or 'token', got '" + g + "'");
}

// A quantized tensor argument ({data, scales, mean?, bits, granularity, blockSize, shape}),
// its tensors read through the call (so staged with it).
struct QuantRefs {
  TensorView *data = nullptr, *scales = nullptr, *mean = nullptr;
  QuantArgs args;

  QuantArgs get() const {
    QuantArgs a = args;
    a.data = *data;
    a.scales = *scales;
    a.mean = mean;
    return a;
  }
};

QuantRefs read_quant(Call& c, const Napi::Value& v, const std::string& name) {
  Napi::Object o = as_object(v, name);
  QuantRefs r;
  r.data = &c.tensor(o.Get("data"), name + ".data");
  r.scales = &c.tensor(o.Get("scales"), name + ".scales");
  Napi::Value m = o.Get("mean");
  if (!m.IsUndefined() && !m.IsNull()) r.mean = &c.tensor(m, name + ".mean");
  if (!opt_int(o, "bits", name, &r.args.bits)) type_error(name + ".bits must be 8 or 4, got undefined");
  r.args.per_token = per_token(o, name);
  opt_int(o, "blockSize", name, &r.args.block);
  Napi::Value s = o.Get("shape");
  if (!s.IsArray() || s.As<Napi::Array>().Length() != 4) type_error(name + ".shape must be an array [B, H, N, D]");
  for (uint32_t i = 0; i < 4; ++i)
    r.args.shape[i] = to_int(s.As<Napi::Array>().Get(i), name + ".shape[" + std::to_string(i) + "]");
  return r;
}

Napi::Value quantize(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  return guarded(env, async, [&]() -> Napi::Value {
    Call c(env, async);
    TensorView& x = c.tensor(info[0], "x");
    const std::string o = "options";
    Napi::Object opts = as_object(info[1], o);
    QuantizeOptions opt;
    opt_int(opts, "bits", o, &opt.bits);
    opt.per_token = per_token(opts, o);
    opt_int(opts, "blockSize", o, &opt.block);
    opt.smooth = opt_bool(opts, "smooth", o, false);
    opt.layout = opt_layout(opts, o);
    c.attach();

    QuantizeParams p = quantize_prepare(x, opt);
    int64_t ds[4], ss[3], ms[3];
    quantize_out_shapes(p, ds, ss, ms);
    TensorView *data = nullptr, *scales = nullptr, *mean = nullptr;
    const size_t id = c.output(x.device, quantize_data_dtype(p), ds, 4, &data);
    const size_t is = c.output(x.device, DType::F32, ss, 3, &scales);
    const size_t im = opt.smooth ? c.output(x.device, DType::F32, ms, 3, &mean) : is;
    auto bind = [&] {
      p = quantize_prepare(x, opt);
      quantize_bind_outputs(p, *data, *scales, mean);
    };
    bind();
    if (c.stage()) bind();
    const bool smooth = opt.smooth;
    return c.run([p] { quantize_run(p); }, [=](Napi::Env e, const std::vector<Napi::Value>& kept) -> Napi::Value {
      Napi::Object r = Napi::Object::New(e);
      r.Set("data", kept[id]);
      r.Set("scales", kept[is]);
      if (smooth) r.Set("mean", kept[im]);
      return r;
    });
  });
}

Napi::Value dequantize(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  return guarded(env, async, [&]() -> Napi::Value {
    Call c(env, async);
    const QuantRefs x = read_quant(c, info[0], "x");
    Napi::Object opts = as_object(info[1], "options");
    TensorView* out = c.opt_tensor(opts, "out", true);
    c.attach();

    DequantizeParams p = dequantize_prepare(x.get());
    const int64_t s[4] = {p.in.B, p.in.H, p.in.N, p.in.D};
    const size_t io = out ? c.index(out) : c.output(x.data->device, DType::F32, s, 4, &out);
    auto bind = [&] {
      p = dequantize_prepare(x.get());
      dequantize_bind_output(p, *out);
    };
    bind();
    if (c.stage()) bind();
    return c.run([p] { dequantize_run(p); }, result_pair(io, io, false, "out", "out"));
  });
}

QuantAttentionOptions parse_quant_options(const Napi::Object& obj) {
  const std::string o = "options";
  QuantAttentionOptions opt;
  opt.attn = read_attention_options(obj);
  opt_int(obj, "qkBits", o, &opt.qk_bits);
  opt.per_token = per_token(obj, o);
  opt.smooth_k = opt_bool(obj, "smoothK", o, true);
  opt.smooth_q = opt_bool(obj, "smoothQ", o, false);
  std::string pv;
  if (opt_string(obj, "pv", o, &pv)) {
    if (pv == "fp32") opt.pv = DType::F32;
    else if (pv == "fp16") opt.pv = DType::F16;
    else if (pv == "bf16") opt.pv = DType::BF16;
    else if (pv == "int8") opt.pv = DType::I8;
    else range_error("options.pv must be 'bf16', 'fp16', 'fp32' or 'int8', got '" + pv + "'");
  }
  return opt;
}

Napi::Value quantized_attention(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  return guarded(env, async, [&]() -> Napi::Value {
    Call c(env, async);
    TensorView& q = c.tensor(info[0], "q");
    QuantRefs kq, vq;
    TensorView *k = nullptr, *v = nullptr;
    const bool kquant = is_quantized(info[1]), vquant = is_quantized(info[2]);
    if (kquant) kq = read_quant(c, info[1], "k");
    else k = &c.tensor(info[1], "k");
    if (vquant) vq = read_quant(c, info[2], "v");
    else v = &c.tensor(info[2], "v");
    Napi::Object opts = as_object(info[3], "options");
    const QuantAttentionOptions opt = parse_quant_options(opts);
    TensorView* out = c.opt_tensor(opts, "out", true);
    // options.mask: blockSparseAttention's mask ({indices, counts}; lib/ops/quant.ts
    // converts the dense form) with its blockSize, headModes, sinkBlocks, localBlocks.
    const MaskArgs mask = read_mask(c, opts.Get("mask"), opts);
    c.attach();

    auto prepare = [&] {
      QuantArgs ka, va;
      if (kquant) ka = kq.get();
      if (vquant) va = vq.get();
      return quant_attention_prepare(q, k, kquant ? &ka : nullptr, v, vquant ? &va : nullptr, opt);
    };
    QuantAttentionParams p = prepare();
    int64_t s[4], l[3];
    attention_out_shape(p.attn, s);
    attention_lse_shape(p.attn, l);
    const size_t io = out ? c.index(out) : c.output(p.attn.q.device, p.attn.q.dtype, s, 4, &out);
    TensorView* lse = nullptr;
    const size_t il = opt.attn.return_lse ? c.output(p.attn.q.device, DType::F32, l, 3, &lse) : io;
    auto bind = [&] {
      p = prepare();
      quant_attention_bind_outputs(p, *out, lse);
      if (mask.active()) block_sparse_bind_mask(p.attn, mask.indices, mask.counts, mask.modes, mask.opt);
    };
    bind();
    if (c.stage()) bind();
    return c.run([p] { quant_attention_run(p); }, result_pair(io, il, opt.attn.return_lse, "out", "lse"));
  });
}

}  // namespace

SUBQ_EXPORTS(quant) {
  using Info = const Napi::CallbackInfo&;
  exports.Set("quantize", Napi::Function::New(env, [](Info i) { return quantize(i, true); }));
  exports.Set("quantizeSync", Napi::Function::New(env, [](Info i) { return quantize(i, false); }));
  exports.Set("dequantize", Napi::Function::New(env, [](Info i) { return dequantize(i, true); }));
  exports.Set("dequantizeSync", Napi::Function::New(env, [](Info i) { return dequantize(i, false); }));
  exports.Set("quantizedAttention", Napi::Function::New(env, [](Info i) { return quantized_attention(i, true); }));
  exports.Set("quantizedAttentionSync", Napi::Function::New(env, [](Info i) { return quantized_attention(i, false); }));
}

}  // namespace subq::napi
