// Kernel choice and launch shapes for attention (see attn_launch.h).
#include "attn_launch.h"

#include <algorithm>
#include <climits>
#include <string>

#include "../core/error.h"
#include "../core/log2.h"
#include "attn_kernels.cuh"
#include "head_dims.h"
#include "launch_check.cuh"

namespace subq::cuda {

namespace {

struct Shape {
  int hd, bm, bn;
};

// The tile of the kernel that runs p (F32Tile, TcTile) at the head dim of its kernel
// (head_dims.h). Block-sparse tiles divide the mask block (64 or 128) both ways.
Shape shape_of(const AttentionParams& p, bool decode) {
  const int hd = HeadDims::at_least(int(std::max(p.D, p.Dv)));
  if (p.q.dtype == DType::F32) return {hd, hd <= 128 ? 32 : 16, 32};
  if (decode) {
    const int dhd = DecodeHeadDims::at_least(hd);
    return {dhd, 16, dhd <= 128 ? 128 : 64};
  }
  return {hd, p.mask.active() ? sparse_tile(hd, int(p.mask.block)) : hd <= 128 ? 128 : 64, hd <= 128 ? 64 : 32};
}

int multiprocessors(const AttentionLaunchOptions& opt) {
  if (opt.multiprocessors > 0) return opt.multiprocessors;
#if SIMT_EMULATED
  return 16;
#else
  int dev = 0, n = 0;
  if (cudaGetDevice(&dev) != cudaSuccess || cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess) {
    cudaGetLastError();
    return 100;
  }
  return n;
#endif
}

bool aligned16(const TensorView& t) {
  if (reinterpret_cast<uintptr_t>(t.data) % 16) return false;
  for (int i = 0; i < 3; ++i)
    if (t.stride[i] % 8) return false;
  return t.shape[3] % 8 == 0;
}

FwdKernel select_kernel(const AttentionParams& p, const Shape& s, bool decode) {
  const int sparse = p.mask.active() ? int(p.mask.block) : 0;
  switch (p.q.dtype) {
    case DType::F16: return tc_kernel<false>(s.hd, decode, sparse);
    case DType::BF16: return tc_kernel<true>(s.hd, decode, sparse);
    default: return f32_kernel(s.hd, sparse != 0);
  }
}

// FlashAttention-2's rule: the fewest splits whose last wave of blocks is nearly
// as full as the best choice's (within 85%), splitting only when the unsplit
// grid fills less than 80% of the GPU's block slots.
int64_t choose_splits(int64_t blocks, int64_t k_blocks, int64_t slots) {
  if (blocks >= slots * 4 / 5) return 1;
  const int64_t most = std::min<int64_t>(128, std::max<int64_t>(1, k_blocks / 2));
  auto efficiency = [&](int64_t s) {
    const int64_t n = blocks * s, waves = (n + slots - 1) / slots;
    return double(n) / double(waves * slots);
  };
  // A split count that leaves each split as many key blocks as one fewer split does is never better.
  auto useful = [&](int64_t s) { return s == 1 || (k_blocks + s - 1) / s != (k_blocks + s - 2) / (s - 1); };
  double best = 0;
  for (int64_t s = 1; s <= most; ++s)
    if (useful(s)) best = std::max(best, efficiency(s));
  for (int64_t s = 1; s <= most; ++s)
    if (useful(s) && efficiency(s) >= 0.85 * best) return s;
  return 1;
}

}  // namespace

// The device view of p.mask (inactive: all zero).
FwdMask mask_params(const AttentionParams& p) {
  FwdMask m{};
  const BlockMask& bm = p.mask;
  if (!bm.active()) return m;
  m.block = int(bm.block), m.nkb = int(bm.nkb);
  m.heads_per_mask = int(p.Hq / bm.Hm);
  m.idx = bm.indices.ptr<const int32_t>();
  m.idx_sb = bm.indices.stride[0], m.idx_sh = bm.indices.stride[1];
  m.idx_sq = bm.indices.stride[2], m.idx_sk = bm.indices.stride[3];
  m.cnt = bm.counts.ptr<const int32_t>();
  m.cnt_sb = bm.counts.stride[0], m.cnt_sh = bm.counts.stride[1], m.cnt_sq = bm.counts.stride[2];
  m.modes = bm.head_modes.data ? bm.head_modes.ptr<const uint8_t>() : nullptr;
  m.modes_s = bm.head_modes.data ? bm.head_modes.stride[0] : 0;
  m.sink = int(std::min<int64_t>(bm.sink_blocks, bm.nkb)), m.local = int(std::min<int64_t>(bm.local_blocks, bm.nkb));
  return m;
}

AttentionPlan attention_plan(const AttentionParams& p, const AttentionLaunchOptions& opt) {
  const int64_t limit = int64_t(1) << 30;  // positions and rows are int in the kernels
  if (p.Nq >= limit || p.Nk >= limit || p.Nq * (p.Hq / p.Hkv) >= limit)
    range_error("CUDA attention supports sequences shorter than 2^30, got Nq = " + std::to_string(p.Nq) +
                ", Nk = " + std::to_string(p.Nk));
  if (p.B > 65535 || p.Hq > 65535)  // grid.z and grid.y
    range_error("CUDA attention supports batch and head counts up to 65535, got B = " + std::to_string(p.B) +
                ", Hq = " + std::to_string(p.Hq));
  AttentionPlan plan;
  if (p.mask.active()) {
    // Block-sparse: the tile kernel's sparse variant, one query head per block row
    // (heads of a group may read different mask rows), keys unsplit.
    const Shape s = shape_of(p, false);
    if ((p.mask.block != 64 && p.mask.block != 128) || p.mask.block % s.bm || p.mask.block % s.bn)
      range_error("CUDA block-sparse attention supports blocks of 64 or 128, got " + std::to_string(p.mask.block));
    return plan;
  }
  const int64_t ratio = p.Hq / p.Hkv;
  plan.group = opt.pack_gqa == 1 || (opt.pack_gqa < 0 && p.Nq <= 16 && ratio > 1) ? int(ratio) : 1;
  plan.decode = p.q.dtype != DType::F32 && p.Nq * plan.group <= 16;
  const Shape s = shape_of(p, plan.decode);
  const int64_t m_blocks = (p.Nq * plan.group + s.bm - 1) / s.bm;
  const int64_t k_blocks = (p.Nk + s.bn - 1) / s.bn;
  int64_t splits = opt.splits;
  if (splits <= 0) {
    // Decode: too few blocks to fill the GPU, so split the keys (each split keeps
    // at least two key blocks to amortise its query tile and the combine).
    const int64_t blocks = p.B * (p.Hq / plan.group) * m_blocks;
    if (p.Nq <= 16) {
      const int64_t slots = multiprocessors(opt) * int64_t(select_kernel(p, s, plan.decode).blocks_per_sm());
      splits = choose_splits(blocks, k_blocks, slots);
    } else {
      splits = 1;
    }
  }
  splits = std::clamp<int64_t>(splits, 1, std::min<int64_t>({k_blocks, 128, 65535 / p.B}));
  // The combine runs one block per (batch, head, query) row, in grid.x (< 2^31
  // blocks): past that the keys stay unsplit.
  if (p.B * p.Hq * p.Nq > int64_t(INT32_MAX)) splits = 1;
  plan.splits = int(splits);
  if (plan.splits > 1) plan.workspace_bytes = splits * p.B * p.Hq * p.Nq * (p.Dv + 1) * int64_t(sizeof(float));
  return plan;
}

void attention_launch(const AttentionParams& p, const AttentionPlan& plan, void* workspace, CUstream_st* stream) {
  const Shape s = shape_of(p, plan.decode);
  FwdParams f{};
  f.q = p.q.data, f.k = p.k.data, f.v = p.v.data, f.o = p.out.data;
  f.lse = p.lse.data ? p.lse.ptr<float>() : nullptr;
  auto strides = [](const TensorView& t, int64_t& sb, int64_t& sh, int64_t& sn) {
    sb = t.stride[0], sh = t.stride[1], sn = t.stride[2];
  };
  strides(p.q, f.q_sb, f.q_sh, f.q_sn);
  strides(p.k, f.k_sb, f.k_sh, f.k_sn);
  strides(p.v, f.v_sb, f.v_sh, f.v_sn);
  strides(p.out, f.o_sb, f.o_sh, f.o_sn);
  if (p.lse.data) strides(p.lse, f.lse_sb, f.lse_sh, f.lse_sn);  // lse is [B, H, N]
  f.B = int(p.B), f.Hq = int(p.Hq), f.Hkv = int(p.Hkv), f.Nq = int(p.Nq), f.Nk = int(p.Nk);
  f.D = int(p.D), f.Dv = int(p.Dv);
  f.group = plan.group;
  f.rows = f.Nq * plan.group;
  f.scale_log2 = p.scale * kLog2eF;
  f.softcap_in = p.softcap > 0 ? p.scale / p.softcap : 0.f;
  f.softcap_out = p.softcap * kLog2eF;
  f.window_left = int(p.window_left), f.window_right = int(p.window_right);
  f.vec = p.q.dtype != DType::F32 && aligned16(p.q) && aligned16(p.k) && aligned16(p.v);
  f.splits = plan.splits;
  if (plan.splits > 1) {
    f.part_o = static_cast<float*>(workspace);
    f.part_lse = f.part_o + int64_t(plan.splits) * p.B * p.Hq * p.Nq * p.Dv;
  }
  f.mask = mask_params(p);

  const dim3 grid(unsigned((f.rows + s.bm - 1) / s.bm), unsigned(p.Hq / plan.group), unsigned(p.B * plan.splits));
  select_kernel(p, s, plan.decode).launch(f, grid, stream);
  check_last_launch("attention (forward)");
  if (plan.splits == 1) return;
  with_elem(p.q.dtype, [&](auto e) { launch_combine<decltype(e)::value>(f, stream); });
  check_last_launch("attention (split-KV combine)");
}

}  // namespace subq::cuda
