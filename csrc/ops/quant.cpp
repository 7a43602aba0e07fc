#include "quant.h"

#include <string>

#include "../cpu/quant.h"
#include "../cuda/quant.h"
#include "check.h"

namespace subq {

namespace {

void check_bits(int64_t bits, const char* name) {
  if (bits != 8 && bits != 4) range_error(std::string(name) + " must be 8 or 4, got " + std::to_string(bits));
}

// A contiguous tensor of exactly `shape` (the layout the quantized kernels index).
void contiguous(const TensorView& t, const std::string& name, int ndim, const int64_t* shape) {
  int64_t stride = 1;
  for (int i = ndim - 1; i >= 0; --i) {
    if (t.shape[i] != shape[i])
      shape_error(name + ".shape[" + std::to_string(i) + "] must be " + std::to_string(shape[i]) + ", got " +
                  std::to_string(t.shape[i]));
    if (t.shape[i] > 1 && t.stride[i] != stride)
      shape_error(name + " must be contiguous (strides[" + std::to_string(i) + "] = " + std::to_string(stride) +
                  "), got " + std::to_string(t.stride[i]));
    stride *= t.shape[i];
  }
}

// A view of the quantized layout of a [B, H, N, D] tensor over caller buffers.
QuantView layout_view(const int64_t s[4], int64_t bits, bool per_token, int64_t block) {
  QuantView v;
  v.bits = int(bits);
  v.group = per_token ? 1 : block;
  v.B = s[0], v.H = s[1], v.N = s[2], v.D = s[3];
  return v;
}

}  // namespace

QuantizeParams quantize_prepare(const TensorView& x_, const QuantizeOptions& opt) {
  check::tensor(x_, "x", 4, {DType::F32, DType::F16, DType::BF16});
  check_bits(opt.bits, "options.bits");
  if (!opt.per_token) check::int_range(opt.block, "options.blockSize", 1, int64_t(1) << 40);
  QuantizeParams p;
  p.x = as_bhnd(x_, opt.layout);
  p.smooth = opt.smooth;
  p.out = layout_view(p.x.shape, opt.bits, opt.per_token, opt.block);
  return p;
}

void quantize_out_shapes(const QuantizeParams& p, int64_t data[4], int64_t scales[3], int64_t mean[3]) {
  const QuantView& v = p.out;
  data[0] = scales[0] = mean[0] = v.B;
  data[1] = scales[1] = mean[1] = v.H;
  data[2] = v.N;
  data[3] = v.row_bytes();
  scales[2] = v.groups();
  mean[2] = v.D;
}

DType quantize_data_dtype(const QuantizeParams& p) { return p.out.bits == 8 ? DType::I8 : DType::U8; }

void quantize_bind_outputs(QuantizeParams& p, const TensorView& data, const TensorView& scales, const TensorView* mean) {
  int64_t ds[4], ss[3], ms[3];
  quantize_out_shapes(p, ds, ss, ms);
  contiguous(data, "data", 4, ds);
  contiguous(scales, "scales", 3, ss);
  check::same_device(p.x, "x", data, "data");
  check::same_device(p.x, "x", scales, "scales");
  p.out.data = data;
  p.out.scales = scales;
  p.out.mean = TensorView{};
  if (p.smooth) {
    contiguous(*mean, "mean", 3, ms);
    check::same_device(p.x, "x", *mean, "mean");
    p.out.mean = *mean;
  }
}

void quantize_run(const QuantizeParams& p) {
  if (p.x.device.kind == DeviceKind::CPU) return cpu::quantize(p);
  cuda::quantize(p);
}

QuantView quant_view(const QuantArgs& a, const char* name) {
  const std::string n = name;
  check_bits(a.bits, (n + ".bits").c_str());
  if (!a.per_token) check::int_range(a.block, (n + ".blockSize").c_str(), 1, int64_t(1) << 40);
  for (int i = 0; i < 4; ++i)
    if (a.shape[i] < 1)
      shape_error(n + ".shape[" + std::to_string(i) + "] must be >= 1, got " + std::to_string(a.shape[i]));
  QuantView v = layout_view(a.shape, a.bits, a.per_token, a.block);
  check::tensor(a.data, (n + ".data").c_str(), 4, {a.bits == 8 ? DType::I8 : DType::U8});
  check::tensor(a.scales, (n + ".scales").c_str(), 3, {DType::F32});
  check::same_device(a.data, (n + ".data").c_str(), a.scales, (n + ".scales").c_str());
  const int64_t ds[4] = {v.B, v.H, v.N, v.row_bytes()}, ss[3] = {v.B, v.H, v.groups()}, ms[3] = {v.B, v.H, v.D};
  contiguous(a.data, n + ".data", 4, ds);
  contiguous(a.scales, n + ".scales", 3, ss);
  v.data = a.data;
  v.scales = a.scales;
  if (a.mean) {
    check::tensor(*a.mean, (n + ".mean").c_str(), 3, {DType::F32});
    check::same_device(a.data, (n + ".data").c_str(), *a.mean, (n + ".mean").c_str());
    contiguous(*a.mean, n + ".mean", 3, ms);
    v.mean = *a.mean;
  }
  return v;
}

DequantizeParams dequantize_prepare(const QuantArgs& x) {
  DequantizeParams p;
  p.in = quant_view(x, "x");
  return p;
}

void dequantize_bind_output(DequantizeParams& p, const TensorView& out) {
  check::tensor(out, "options.out", 4, {DType::F32});
  check::same_device(p.in.data, "x.data", out, "options.out");
  const int64_t s[4] = {p.in.B, p.in.H, p.in.N, p.in.D};
  for (int i = 0; i < 4; ++i) check::dim_equals(out, "options.out", i, "output", s[i], "x.shape");
  check::no_self_overlap(out, "options.out");
  check::no_overlap(out, "options.out", p.in.data, "x.data");
  check::no_overlap(out, "options.out", p.in.scales, "x.scales");
  p.out = out;
}

void dequantize_run(const DequantizeParams& p) {
  if (p.in.data.device.kind == DeviceKind::CPU) return cpu::dequantize(p);
  cuda::dequantize(p);
}

QuantAttentionParams quant_attention_prepare(const TensorView& q, const TensorView* k, const QuantArgs* kq,
                                             const TensorView* v, const QuantArgs* vq,
                                             const QuantAttentionOptions& opt) {
  check_bits(opt.qk_bits, "options.qkBits");
  QuantAttentionParams p;
  p.qk_bits = int(opt.qk_bits);
  p.per_token = opt.per_token;
  p.smooth_k = opt.smooth_k;
  p.smooth_q = opt.smooth_q;
  p.pv = opt.pv;
  if (kq) p.kq = quant_view(*kq, "k");
  if (vq) p.vq = quant_view(*vq, "v");
  if (kq) check::same_device(q, "q", p.kq.data, "k.data");
  if (vq) check::same_device(q, "q", p.vq.data, "v.data");
  if (vq && p.vq.mean.data) type_error("v must be quantized without smoothing (v.mean is set)");
  // A quantized k or v stands in to attention_prepare as a view of q's dtype with its
  // shape (in the caller's layout) that is never read: the quantized view is.
  static float stand_in_data[1];
  auto stand_in = [&](const QuantView& qv) {
    TensorView t;
    t.data = stand_in_data;
    t.dtype = q.dtype;
    t.device = q.device;
    t.ndim = 4;
    const bool bnhd = opt.attn.layout == Layout::BNHD;
    const int64_t s[4] = {qv.B, bnhd ? qv.N : qv.H, bnhd ? qv.H : qv.N, qv.D};
    for (int i = 0; i < 4; ++i) t.shape[i] = s[i];
    t.stride[3] = t.shape[3] > 1 ? 1 : 0;
    t.capacity = t.shape[3];
    return t;
  };
  const TensorView kv = kq ? stand_in(p.kq) : *k, vv = vq ? stand_in(p.vq) : *v;
  p.attn = attention_prepare(q, kv, vv, opt.attn);
  return p;
}

void quant_attention_bind_outputs(QuantAttentionParams& p, const TensorView& out, const TensorView* lse) {
  attention_bind_outputs(p.attn, out, lse);
  // The pre-quantized caches are inputs too.
  const std::initializer_list<check::Named> caches = {{&p.kq.data, "k.data"}, {&p.kq.scales, "k.scales"},
                                                      {&p.kq.mean, "k.mean"},  {&p.vq.data, "v.data"},
                                                      {&p.vq.scales, "v.scales"}};
  check::no_overlap(p.attn.out, "options.out", caches);
  check::no_overlap(p.attn.lse, "lse", caches);
}

void quant_attention_run(const QuantAttentionParams& p) {
  if (p.attn.q.device.kind == DeviceKind::CPU) return cpu::quantized_attention(p);
  cuda::quantized_attention(p);
}

}  // namespace subq
