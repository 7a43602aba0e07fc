#include "xattention.h"

#include <cmath>
#include <string>

#include "../cpu/xattention.h"
#include "../cuda/xattention.h"
#include "attention.h"
#include "check.h"

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

}  // namespace subq
