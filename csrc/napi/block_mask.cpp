// blockMaskToIndicesSync(mask, options) and indicesToBlockMaskSync(indices, counts,
// nKeyBlocks): marshalling only (ops/block_mask.h).
#include "../ops/block_mask.h"

#include <memory>

#include "call.h"
#include "registry.h"

namespace subq::napi {

namespace {

struct CompactOptions {
  BlockMaskOptions ops;
  bool with_indices = true, with_mask = false, totals = false;
};

CompactOptions parse_options(const Napi::Object& obj) {
  const std::string o = "options";
  CompactOptions opt;
  opt_int(obj, "group", o, &opt.ops.group);
  const Napi::Value d = obj.Get("diagonal");
  if (!d.IsUndefined()) {
    const Napi::Object diag = as_object(d, "options.diagonal");
    const std::string od = "options.diagonal";
    if (!opt_int(diag, "nq", od, &opt.ops.Nq) || !opt_int(diag, "nk", od, &opt.ops.Nk) ||
        !opt_int(diag, "blockSize", od, &opt.ops.block))
      type_error("options.diagonal must be an object { nq, nk, blockSize } of integers");
  }
  opt.ops.causal = opt_bool(obj, "causal", o, false);
  opt.ops.pad_to_key_blocks = opt_bool(obj, "padToKeyBlocks", o, false);
  opt.with_indices = opt_bool(obj, "indices", o, true);
  opt.with_mask = opt_bool(obj, "withMask", o, false);
  opt.totals = opt_bool(obj, "totals", o, false);
  return opt;
}

// Returns { counts }, the compact form's indices (unless options.indices is false) and, as asked, mask (the kept blocks, uint8) and per mask
// head keptPerHead / visiblePerHead (numbers), on the mask's device. Synchronous: sizing
// the compact form to its widest row reads back one int.
Napi::Value block_mask_to_indices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, false, [&]() -> Napi::Value {
    Call c(env, false);
    TensorView& mask = c.tensor(info[0], "mask");
    const CompactOptions opt = parse_options(as_object(info[1], "options"));
    c.attach();

    BlockMaskParams p = block_mask_prepare(mask, opt.ops);
    int64_t ms[4], rs[4];
    block_mask_shapes(p, ms, rs);
    TensorView *counts = nullptr, *visible = nullptr, *out_mask = nullptr, *indices = nullptr;
    const size_t ic = c.output(mask.device, DType::I32, rs, 3, &counts);
    if (opt.totals) c.output(mask.device, DType::I32, rs, 3, &visible);  // read by the totals, not returned
    const size_t im = opt.with_mask ? c.output(mask.device, DType::U8, ms, 4, &out_mask) : ic;
    block_mask_bind(p, out_mask, nullptr, *counts, visible);
    size_t ii = ic;
    if (opt.with_indices) {
      block_mask_size(p, opt.ops);
      rs[3] = p.max_k;
      ii = c.output(mask.device, DType::I32, rs, 4, &indices);
      block_mask_bind(p, out_mask, indices, *counts, visible);
    }
    return c.run([p] { block_mask_run(p); },
                 [p, opt, ic, im, ii](Napi::Env e, const std::vector<Napi::Value>& kept) -> Napi::Value {
                   Napi::Object r = Napi::Object::New(e);
                   if (opt.with_indices) r.Set("indices", kept[ii]);
                   r.Set("counts", kept[ic]);
                   if (opt.with_mask) r.Set("mask", kept[im]);
                   if (opt.totals) {
                     const BlockTotals t = block_mask_totals(p);
                     r.Set("keptPerHead", number_array(e, t.kept.data(), int(t.kept.size())));
                     r.Set("visiblePerHead", number_array(e, t.visible.data(), int(t.visible.size())));
                   }
                   return r;
                 });
  });
}

// indicesToBlockMaskSync(indices, counts, nKeyBlocks): the uint8 mask on their device.
Napi::Value indices_to_block_mask(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, false, [&]() -> Napi::Value {
    Call c(env, false);
    TensorView &indices = c.tensor(info[0], "mask.indices"), &counts = c.tensor(info[1], "mask.counts");
    const int64_t nkb = to_int(info[2], "nKeyBlocks");
    c.attach();

    BlockMaskExpandParams p = block_mask_expand_prepare(indices, counts, nkb);
    int64_t s[4];
    block_mask_expand_shape(p, s);
    TensorView* mask = nullptr;
    const size_t im = c.output(indices.device, DType::U8, s, 4, &mask);
    block_mask_expand_bind(p, *mask);
    return c.run([p] { block_mask_expand_run(p); }, result_pair(im, im, false, "mask", ""));
  });
}

}  // namespace

SUBQ_EXPORTS(block_mask) {
  exports.Set("blockMaskToIndicesSync", Napi::Function::New(env, block_mask_to_indices));
  exports.Set("indicesToBlockMaskSync", Napi::Function::New(env, indices_to_block_mask));
}

}  // namespace subq::napi
