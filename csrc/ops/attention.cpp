#include "attention.h"

#include <cmath>
#include <string>

#include "../cpu/attention.h"
#include "../cuda/backend.h"
#include "check.h"

namespace subq {

void check_query_key(const TensorView& q, const TensorView& k, Layout layout) {
  const auto floats = {DType::F32, DType::F16, DType::BF16};
  check::tensor(q, "q", 4, floats);
  check::tensor(k, "k", 4, floats);
  check::same_dtype(q, "q", k, "k");
  check::same_device(q, "q", k, "k");
  const int hd = layout == Layout::BNHD ? 2 : 1;  // caller's head dim
  check::dim_range(q, "q", 3, "head dim", 1, 256);
  check::dim_equals(k, "k", 0, "batch", q.shape[0], "q.shape[0]");
  check::dim_equals(k, "k", 3, "head dim", q.shape[3], "q.shape[3]");
  if (q.shape[hd] % k.shape[hd] != 0)
    range_error("q.shape[" + std::to_string(hd) + "] (query heads) = " + std::to_string(q.shape[hd]) +
                " must be a multiple of k.shape[" + std::to_string(hd) + "] (kv heads) = " +
                std::to_string(k.shape[hd]));
}

AttentionParams attention_prepare(const TensorView& q, const TensorView& k, const TensorView& v,
                                  const AttentionOptions& opt) {
  check_query_key(q, k, opt.layout);
  check::tensor(v, "v", 4, {DType::F32, DType::F16, DType::BF16});
  check::same_dtype(q, "q", v, "v");
  check::same_device(q, "q", v, "v");
  const bool bnhd = opt.layout == Layout::BNHD;
  const int hd = bnhd ? 2 : 1, nd = bnhd ? 1 : 2;  // caller's head and sequence dims
  check::dim_range(v, "v", 3, "value head dim", 1, 256);
  check::dim_equals(v, "v", 0, "batch", q.shape[0], "q.shape[0]");
  check::dim_equals(v, "v", hd, "kv heads", k.shape[hd], "k.shape[" + std::to_string(hd) + "]");
  check::dim_equals(v, "v", nd, "key length", k.shape[nd], "k.shape[" + std::to_string(nd) + "]");

  AttentionParams p;
  bind_query_key(p, q, k, opt.layout);
  p.v = as_bhnd(v, opt.layout);
  p.Dv = p.v.shape[3];

  // Scale and softcap run in fp32 (the kernels multiply by log2(e), and with a cap
  // divide the scale by it): beyond fp32's normal numbers they would overflow or
  // flush to 0 and silently change the result.
  if (opt.has_scale) check::fp32_normal_or_zero(opt.scale, "options.scale");
  p.scale = opt.has_scale ? float(opt.scale) : float(1.0 / std::sqrt(double(p.D)));
  check::finite(opt.softcap, "options.softcap");
  if (opt.softcap < 0) range_error("options.softcap must be >= 0 (0 disables it), got " + std::to_string(opt.softcap));
  check::fp32_normal_or_zero(opt.softcap, "options.softcap");
  if (opt.softcap > 0 && p.scale != 0)
    check::fp32_normal_or_zero(double(p.scale) / opt.softcap, "options.scale / options.softcap");
  p.softcap = float(opt.softcap);
  const int64_t big = int64_t(1) << 53;
  check::int_range(opt.window_left, "options.window[0] (left)", -1, big);
  check::int_range(opt.window_right, "options.window[1] (right)", -1, big);
  p.window_left = opt.window_left;
  p.window_right = opt.causal ? 0 : opt.window_right;
  if (opt.causal && opt.window_right > 0)
    range_error("options.window[1] (right) must be 0 or -1 when options.causal is true, got " +
                std::to_string(opt.window_right));
  // Larger windows than the sequences are the same as unlimited; clamping keeps
  // index arithmetic far from overflow.
  if (p.window_left > p.Nk + p.Nq) p.window_left = -1;
  if (p.window_right > p.Nk + p.Nq) p.window_right = -1;
  return p;
}

void attention_out_shape(const AttentionParams& p, int64_t s[4]) { layout_shape(p.layout, p.B, p.Hq, p.Nq, p.Dv, s); }

void attention_lse_shape(const AttentionParams& p, int64_t s[3]) {
  s[0] = p.B;
  s[1] = p.Hq;
  s[2] = p.Nq;
}

void attention_bind_outputs(AttentionParams& p, const TensorView& out, const TensorView* lse) {
  int64_t s[4];
  attention_out_shape(p, s);
  check::written(out, "options.out", p.q.dtype, 4, s, "output", "the output shape", p.q, "q");
  check::no_overlap(out, "options.out", {{&p.q, "q"}, {&p.k, "k"}, {&p.v, "v"}});
  p.out = as_bhnd(out, p.layout);
  p.lse = TensorView{};
  if (lse) {
    int64_t l[3];
    attention_lse_shape(p, l);
    check::written(*lse, "lse", DType::F32, 3, l, "lse", "the lse shape", p.q, "q");
    check::no_overlap(*lse, "lse", {{&p.q, "q"}, {&p.k, "k"}, {&p.v, "v"}, {&out, "options.out"}});
    p.lse = *lse;
  }
}

void attention_run(const AttentionParams& p) {
  if (p.q.device.kind == DeviceKind::CPU) return cpu::attention(p);
  cuda::attention(p);
}

}  // namespace subq
