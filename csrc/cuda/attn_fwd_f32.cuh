// Flash attention forward for fp32 inputs on the CUDA cores (FMA, no tensor
// cores): a block of 4 warps owns 32 query rows (8 per warp; 16 and 4 at HD 256) and walks its key
// blocks of 32; lane j computes the scores of key j for the warp's rows, the
// probabilities go through shared memory, and lane j accumulates output columns
// j, j + 32, ... HD is a head dim of head_dims.h (D and Dv padded up).
// SPARSE: the block-sparse variant, the same kernel walking the listed key
// blocks (mask.cuh); its 32 (16) rows never straddle a 64- or 128-row mask block.
#pragma once
#include "attn_kernels.cuh"
#include "attn_store.cuh"
#include "mask.cuh"
#include "softmax.cuh"

namespace subq::cuda {

template <int HD>
struct F32Tile {
  // 16 rows at HD 256 keep the tile within 99 KiB.
  static constexpr int kThreads = 128, kBM = HD <= 128 ? 32 : 16, kBN = 32, kRowsPerWarp = kBM / 4;
  static constexpr int kKStride = HD + 1;  // lane j reads row j of K: odd stride, no bank conflicts
  static constexpr int kSmem = (kBM * HD + kBN * kKStride + kBN * HD + kBM * kBN) * 4;
  static_assert(kSmem <= 101376, "attention tile exceeds the shared memory of sm_86/sm_89");
  static_assert(HD % 32 == 0 && HD <= 256);
};

template <int HD, bool SPARSE>
// The occupancy hint (2 blocks per SM) keeps ptxas from spilling at a register count of its own choosing.
__global__ void __launch_bounds__(128, 2) attn_fwd_f32(const FwdParams p) {
  using T = F32Tile<HD>;
  constexpr int BM = T::kBM, BN = T::kBN, RW = T::kRowsPerWarp, C = HD / 32;
  SIMT_DYNAMIC_SHARED(float, smem);
  float* sQ = smem;              // [BM][HD]
  float* sK = sQ + BM * HD;      // [BN][HD + 1]
  float* sV = sK + BN * T::kKStride;  // [BN][HD]
  float* sP = sV + BN * HD;      // [BM][BN]

  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int y = blockIdx.y, b = blockIdx.z / p.splits, split = blockIdx.z % p.splits;
  const int r0 = blockIdx.x * BM, r1 = min(r0 + BM, p.rows);
  const int hk = y * p.group / (p.Hq / p.Hkv);
  const float* q = static_cast<const float*>(p.q);
  const float* kp = static_cast<const float*>(p.k) + b * p.k_sb + hk * p.k_sh;
  const float* vp = static_cast<const float*>(p.v) + b * p.v_sb + hk * p.v_sh;

  for (int e = tid; e < BM * HD; e += T::kThreads) {
    const int r = e / HD, d = e % HD;
    float x = 0.f;
    if (r0 + r < p.rows && d < p.D) {
      const RowMap m = map_row(p, y, r0 + r);
      x = q[b * p.q_sb + m.head * p.q_sh + m.pos * p.q_sn + d];
    }
    sQ[e] = x;
  }

  const auto blocks = key_tiles<SPARSE, BN>(p, b, y, r0, r1, split);
  int i_lo, i_hi;
  pos_range(p, r0, r1, &i_lo, &i_hi);
  int pos[RW];  // query position of each row of this warp
#pragma unroll
  for (int r = 0; r < RW; ++r) pos[r] = map_row(p, y, min(r0 + warp * RW + r, p.rows - 1)).pos;

  float o[RW][C];
  OnlineSoftmax row[RW];
#pragma unroll
  for (int r = 0; r < RW; ++r)
#pragma unroll
    for (int c = 0; c < C; ++c) o[r][c] = 0.f;

  for (int it = 0; it < blocks.count; ++it) {
    const int j0 = blocks[it] * BN;
    __syncthreads();  // every warp is done with the previous K and V
    for (int e = tid; e < BN * HD; e += T::kThreads) {
      const int r = e / HD, d = e % HD, j = j0 + r;
      sK[r * T::kKStride + d] = j < p.Nk && d < p.D ? kp[j * p.k_sn + d] : 0.f;
      sV[e] = j < p.Nk && d < p.Dv ? vp[j * p.v_sn + d] : 0.f;
    }
    __syncthreads();

    const bool masked = !block_fully_visible(p, i_lo, i_hi, j0, BN);
    const int j = j0 + lane;
    float s[RW];
#pragma unroll
    for (int r = 0; r < RW; ++r) s[r] = 0.f;
    for (int d = 0; d < p.D; ++d) {
      const float kd = sK[lane * T::kKStride + d];
#pragma unroll
      for (int r = 0; r < RW; ++r) s[r] = fmaf(sQ[(warp * RW + r) * HD + d], kd, s[r]);
    }
#pragma unroll
    for (int r = 0; r < RW; ++r) {
      float x = p.softcap_in != 0.f ? tanhf(s[r] * p.softcap_in) * p.softcap_out : s[r] * p.scale_log2;
      if (masked && !key_visible(p, pos[r], j)) x = -INFINITY;
      float mx = fmaxf(row[r].m, x);
#pragma unroll
      for (int w = 16; w >= 1; w /= 2) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, w));
      const float base = OnlineSoftmax::offset(mx);
      const float pr = fast_exp2(x - base), corr = row[r].rescale(base);
      float sum = pr;
#pragma unroll
      for (int w = 16; w >= 1; w /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, w);
      row[r].advance(mx, corr, sum);
#pragma unroll
      for (int c = 0; c < C; ++c) o[r][c] *= corr;
      sP[(warp * RW + r) * BN + lane] = pr;
    }
    __syncwarp();
#pragma unroll 4
    for (int k = 0; k < BN; ++k) {
#pragma unroll
      for (int c = 0; c < C; ++c) {
        const float vk = sV[k * HD + c * 32 + lane];
#pragma unroll
        for (int r = 0; r < RW; ++r) o[r][c] = fmaf(sP[(warp * RW + r) * BN + k], vk, o[r][c]);
      }
    }
  }

#pragma unroll
  for (int r = 0; r < RW; ++r) {
    if (r0 + warp * RW + r >= p.rows) continue;
    const RowMap rm = map_row(p, y, r0 + warp * RW + r);
    const float l = row[r].l, inv = l > 0.f ? 1.f / l : 0.f;
#pragma unroll
    for (int c = 0; c < C; ++c) store_row_value<Elem::F32>(p, b, split, rm, c * 32 + lane, o[r][c] * inv);
    if (lane == 0) store_row_lse(p, b, split, rm, row[r].lse());
  }
}

template <int HD, bool SPARSE>
void launch_fwd_f32(const FwdParams& p, dim3 grid, cudaStream_t stream) {
  launch_with_smem(attn_fwd_f32<HD, SPARSE>, grid, F32Tile<HD>::kThreads, F32Tile<HD>::kSmem, stream, p);
}

template <int HD, bool SPARSE>
int fwd_f32_blocks_per_sm() {
  return resident_blocks(attn_fwd_f32<HD, SPARSE>, F32Tile<HD>::kThreads, F32Tile<HD>::kSmem);
}

template <int HD, bool SPARSE>
FwdKernel fwd_f32_kernel() {
  return {&launch_fwd_f32<HD, SPARSE>, &fwd_f32_blocks_per_sm<HD, SPARSE>};
}

}  // namespace subq::cuda
