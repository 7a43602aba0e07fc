#include "xattention.h"

#include <cmath>
#include <string>

#include "../cpu/xattention.h"
#include "../cuda/xattention.h"
#include "attention.h"
#include "check.h"
#include "host_elements.h"

namespace subq {

XAttentionParams xattention_prepare(const TensorView& q, const TensorView& k, const XAttentionOptions& opt) {
  check_query_key(q, k, opt.layout);
  if (opt.block != 64 && opt.block != 128)
    range_error("options.blockSize must be 64 or 128, got " + std::to_string(opt.block));
  if ((opt.stride != 4 && opt.stride != 8 && opt.stride != 16) || opt.block % opt.stride != 0)
    range_error("options.stride must be 4, 8 or 16 and divide options.blockSize = " + std::to_string(opt.block) +
                ", got " + std::to_string(opt.stride));
  if (opt.chunk != 0 && (opt.chunk < opt.block || opt.chunk % opt.block != 0 || opt.chunk > (int64_t(1) << 40)))
    range_error("options.chunk must be a positive multiple of options.blockSize = " + std::to_string(opt.block) +
                ", got " + std::to_string(opt.chunk));
  if (opt.has_scale) check::fp32_normal_or_zero(opt.scale, "options.scale");

  XAttentionParams p;
  bind_query_key(p, q, k, opt.layout);
  p.stride = opt.stride;
  p.block = opt.block;
  p.chunk = opt.chunk;
  p.causal = opt.causal;
  p.scale = opt.has_scale ? float(opt.scale) : float(1.0 / std::sqrt(double(p.D)));
  return p;
}

void xattention_scores_shape(const XAttentionParams& p, int64_t s[4]) {
  s[0] = p.B;
  s[1] = p.Hq;
  s[2] = p.nqb();
  s[3] = p.nkb();
}

void xattention_bind_scores(XAttentionParams& p, const TensorView& scores) {
  check::tensor(scores, "options.out", 4, {DType::F32});
  check::same_device(p.q, "q", scores, "options.out");
  int64_t s[4];
  xattention_scores_shape(p, s);
  for (int i = 0; i < 4; ++i) check::dim_equals(scores, "options.out", i, "scores", s[i], "the scores shape");
  p.scores = scores;
}

void xattention_scores_run(const XAttentionParams& p) {
  if (p.q.device.kind == DeviceKind::CPU) return cpu::xattention_scores(p);
  cuda::xattention_scores(p);
}

XSelectParams xattention_select_prepare(const TensorView& scores, XSelectOptions& opt) {
  check::tensor(scores, "scores", 4, {DType::F32});
  XSelectParams p;
  p.B = scores.shape[0], p.H = scores.shape[1], p.nqb = scores.shape[2], p.nkb = scores.shape[3];
  if (opt.per_head) {
    if (int64_t(opt.thresholds.size()) != p.H)
      shape_error("options.threshold has " + std::to_string(opt.thresholds.size()) +
                " entries but scores.shape[1] (heads) = " + std::to_string(p.H));
    for (size_t h = 0; h < opt.thresholds.size(); ++h)
      check::unit_interval(opt.thresholds[h], "options.threshold[" + std::to_string(h) + "]");
  } else {
    if (opt.thresholds.size() != 1) type_error("options.threshold must be a number or an array of numbers (one per head)");
    check::unit_interval(opt.thresholds[0], "options.threshold");
  }
  opt.per_head_values = opt.per_head ? opt.thresholds : std::vector<double>(size_t(p.H), opt.thresholds[0]);
  p.scores = scores;
  p.thresholds = opt.per_head_values.data();
  p.causal = opt.causal, p.keep_sink = opt.keep_sink, p.keep_recent = opt.keep_recent;
  return p;
}

void xattention_select_shapes(const XSelectParams& p, int64_t m[4], int64_t c[3]) {
  m[0] = c[0] = p.B;
  m[1] = c[1] = p.H;
  m[2] = c[2] = p.nqb;
  m[3] = p.nkb;
}

void xattention_bind_select(XSelectParams& p, const TensorView& mask, const TensorView& counts) {
  int64_t m[4], c[3];
  xattention_select_shapes(p, m, c);
  check::tensor(mask, "mask", 4, {DType::U8});
  check::tensor(counts, "counts", 3, {DType::I32});
  check::same_device(p.scores, "scores", mask, "mask");
  check::same_device(p.scores, "scores", counts, "counts");
  for (int i = 0; i < 4; ++i) check::dim_equals(mask, "mask", i, "mask", m[i], "the scores shape");
  for (int i = 0; i < 3; ++i) check::dim_equals(counts, "counts", i, "counts", c[i], "the scores shape");
  // The kernels write rows at r * nkb (mask) and r (counts): contiguous outputs only.
  if (mask.stride[2] != p.nkb || mask.stride[1] != p.nqb * p.nkb || mask.stride[0] != p.H * p.nqb * p.nkb ||
      counts.stride[1] != p.nqb || counts.stride[0] != p.H * p.nqb)
    range_error("the XAttention mask and counts must be contiguous");
  p.mask = mask;
  p.counts = counts;
}

void xattention_select_run(const XSelectParams& p) {
  if (p.scores.device.kind == DeviceKind::CPU) return cpu::xattention_select(p);
  cuda::xattention_select(p);
}

BlockTotals block_totals(const TensorView& kept_per_row, int64_t H, int64_t nqb, int64_t nkb, bool causal) {
  const std::vector<int32_t> kept = host_elements<int32_t>(kept_per_row);
  BlockTotals t{std::vector<int64_t>(size_t(H), 0), std::vector<int64_t>(size_t(H), 0)};
  for (size_t r = 0; r < kept.size(); ++r) {
    const size_t h = r / size_t(nqb) % size_t(H);
    t.kept[h] += kept[r];
    t.visible[h] += xsel::visible_end(int64_t(r % size_t(nqb)), nqb, nkb, causal);
  }
  return t;
}

BlockTotals xattention_select_totals(const XSelectParams& p) { return block_totals(p.counts, p.H, p.nqb, p.nkb, p.causal); }

}  // namespace subq
