#include "block_mask.h"

#include <string>

#include "../cpu/block_mask.h"
#include "../cuda/block_mask.h"
#include "check.h"
#include "host_elements.h"

namespace subq {

BlockMaskParams block_mask_prepare(const TensorView& mask, const BlockMaskOptions& opt) {
  check::tensor(mask, "mask", 4, {DType::U8});
  // Counts and ids are int32.
  check::dim_range(mask, "mask", 3, "key blocks", 1, INT32_MAX);
  check::int_range(opt.group, "options.group", 1, mask.shape[1]);
  if (mask.shape[1] % opt.group)
    range_error("options.group (" + std::to_string(opt.group) + ") must divide mask.shape[1] (heads), got " +
                std::to_string(mask.shape[1]) + " heads");
  BlockMaskParams p;
  p.mask = mask;
  p.B = mask.shape[0], p.Hm = mask.shape[1] / opt.group, p.group = opt.group;
  p.nqb = mask.shape[2], p.nkb = mask.shape[3];
  p.causal = opt.causal;
  if (opt.block != 0) {
    check::int_range(opt.block, "options.diagonal.blockSize", 1, int64_t(1) << 20);
    check::int_range(opt.Nq, "options.diagonal.nq", 1, int64_t(1) << 40);
    check::int_range(opt.Nk, "options.diagonal.nk", 1, int64_t(1) << 40);
    check::dim_equals(mask, "mask", 2, "query blocks", (opt.Nq + opt.block - 1) / opt.block,
                      "ceil(options.diagonal.nq / options.diagonal.blockSize)");
    check::dim_equals(mask, "mask", 3, "key blocks", (opt.Nk + opt.block - 1) / opt.block,
                      "ceil(options.diagonal.nk / options.diagonal.blockSize)");
    p.block = opt.block, p.Nq = opt.Nq, p.Nk = opt.Nk;
  }
  return p;
}

void block_mask_shapes(const BlockMaskParams& p, int64_t m[4], int64_t r[3]) {
  m[0] = r[0] = p.B;
  m[1] = r[1] = p.Hm;
  m[2] = r[2] = p.nqb;
  m[3] = p.nkb;
}

namespace {

// Outputs are written at fixed row offsets: contiguous, on the mask's device.
void bind_output(const BlockMaskParams& p, const TensorView& t, const char* name, DType dt, int ndim, const int64_t* shape) {
  check::tensor(t, name, ndim, {dt});
  check::same_device(p.mask, "mask", t, name);
  check::shape_equals(t, name, name, shape, "the mask's rows");
  int64_t s = 1;
  for (int i = ndim - 1; i >= 0; --i) {
    if (t.stride[i] != s) range_error(std::string(name) + " must be contiguous");
    s *= t.shape[i];
  }
}

}  // namespace

void block_mask_bind(BlockMaskParams& p, const TensorView* out_mask, const TensorView* indices, const TensorView& counts,
                     const TensorView* visible) {
  int64_t m[4], r[4];
  block_mask_shapes(p, m, r);
  bind_output(p, counts, "counts", DType::I32, 3, r);
  p.counts = counts;
  if (visible) bind_output(p, *visible, "visible", DType::I32, 3, r);
  p.visible = visible ? *visible : TensorView{};
  if (out_mask) bind_output(p, *out_mask, "out_mask", DType::U8, 4, m);
  p.out_mask = out_mask ? *out_mask : TensorView{};
  if (indices) {
    r[3] = p.max_k;
    bind_output(p, *indices, "indices", DType::I32, 4, r);
  }
  p.indices = indices ? *indices : TensorView{};
}

void block_mask_size(BlockMaskParams& p, const BlockMaskOptions& opt) {
  if (opt.pad_to_key_blocks) {
    p.max_k = p.nkb;
    return;
  }
  BlockMaskParams c = p;
  c.indices = c.out_mask = c.visible = TensorView{};
  int64_t widest = 0;
  if (p.mask.device.kind == DeviceKind::CPU) {
    int32_t n = 0;
    c.max_count = &n;
    cpu::block_mask_compact(c);
    widest = n;
  } else {
    widest = cuda::block_mask_widest(c);
  }
  p.max_k = widest > 1 ? widest : 1;
}

void block_mask_run(const BlockMaskParams& p) {
  if (p.mask.device.kind == DeviceKind::CPU) return cpu::block_mask_compact(p);
  cuda::block_mask_compact(p);
}

BlockTotals block_mask_totals(const BlockMaskParams& p) { return block_totals(p.visible, p.Hm, p.nqb, p.nkb, p.causal); }

BlockMaskExpandParams block_mask_expand_prepare(const TensorView& indices, const TensorView& counts, int64_t nkb) {
  check::tensor(indices, "mask.indices", 4, {DType::I32});
  check::tensor(counts, "mask.counts", 3, {DType::I32});
  check::same_device(indices, "mask.indices", counts, "mask.counts");
  check::int_range(nkb, "nKeyBlocks", 1, INT32_MAX);
  for (int d = 0; d < 3; ++d)
    check::dim_equals(counts, "mask.counts", d, "leading dims", indices.shape[d], "mask.indices.shape[" + std::to_string(d) + "]");
  BlockMaskExpandParams p;
  p.indices = indices, p.counts = counts;
  p.B = indices.shape[0], p.Hm = indices.shape[1], p.nqb = indices.shape[2], p.max_k = indices.shape[3], p.nkb = nkb;
  const std::vector<int32_t> ix = host_elements<int32_t>(indices), ct = host_elements<int32_t>(counts);
  for (int64_t r = 0; r < int64_t(ct.size()); ++r) {
    const int32_t n = ct[size_t(r)];
    if (n < 0 || n > p.max_k)
      range_error("mask.counts[" + std::to_string(r) + "] must be in [0, " + std::to_string(p.max_k) + "], got " + std::to_string(n));
    for (int32_t x = 0; x < n; ++x) {
      const int32_t j = ix[size_t(r * p.max_k + x)];
      if (j < 0 || j >= nkb)
        range_error("mask.indices row " + std::to_string(r) + " lists key block " + std::to_string(j) + ", outside [0, " +
                    std::to_string(nkb) + ") (nKeyBlocks)");
    }
  }
  return p;
}

void block_mask_expand_shape(const BlockMaskExpandParams& p, int64_t m[4]) {
  m[0] = p.B, m[1] = p.Hm, m[2] = p.nqb, m[3] = p.nkb;
}

void block_mask_expand_bind(BlockMaskExpandParams& p, const TensorView& mask) {
  int64_t m[4];
  block_mask_expand_shape(p, m);
  check::tensor(mask, "mask", 4, {DType::U8});
  check::same_device(p.indices, "mask.indices", mask, "mask");
  check::shape_equals(mask, "mask", "mask", m, "the compact form's rows and nKeyBlocks");
  if (mask.stride[2] != p.nkb || mask.stride[1] != p.nqb * p.nkb || mask.stride[0] != p.Hm * p.nqb * p.nkb)
    range_error("mask must be contiguous");
  p.mask = mask;
}

void block_mask_expand_run(const BlockMaskExpandParams& p) {
  if (p.mask.device.kind == DeviceKind::CPU) return cpu::block_mask_expand(p);
  cuda::block_mask_expand(p);
}

}  // namespace subq
