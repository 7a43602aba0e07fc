// Flash attention forward on tensor cores (fp16 / bf16, fp32 accumulation), in
// the FlashAttention-2 arrangement: a block of 4 warps owns 128 query rows (32 per
// warp, two m16 tiles that share every K and V fragment; 64 rows at HD 256) and
// walks its list of key blocks; S = Q K^T and O += P V are
// mma.m16n8k16 with operands from shared memory through ldmatrix; the online
// softmax runs on the accumulator registers. K[n+1] is fetched (cp.async) while
// P V of block n runs, V[n] while Q K[n]^T runs. Interior key tiles (seen whole by every
// row, no softcap, a positive scale) run straight-line: the scale is folded into the
// exponent's FFMA after the max; softcap and element masks are one branch per tile.
// Decode (DEC: at most 16 rows, e.g. one query of each head of a GQA group): the
// four warps share the 16 rows and split each key block four ways instead, then
// merge their (max, sum, O) through shared memory at the end, so K and V are read
// at a rate the tensor cores keep up with.
// Block-sparse (SPARSE = the mask block, 64 or 128 rows; 0 for dense): the same
// kernel walking the listed key blocks (mask.cuh), with one m16 tile per warp for
// 64-row mask blocks, so a block's rows never straddle two mask blocks.
// HD is a head dim of head_dims.h (D and Dv padded up); D and Dv <= HD at run time.
#pragma once
#include "attn_kernels.cuh"
#include "attn_store.cuh"
#include "head_dims.h"
#include "mask.cuh"
#include "ptx.cuh"
#include "softmax.cuh"

namespace subq::cuda {

template <int HD, bool DEC, int SPARSE>
struct TcTile {
  static_assert(!(DEC && SPARSE), "block-sparse calls take the tile kernel");
  static_assert(SPARSE == 0 || SPARSE == 64 || SPARSE == 128);
  static constexpr int kWarps = 4, kThreads = 128;
  // m16 tiles per warp: registers bound it at HD 256, a 64-row mask block for SPARSE
  static constexpr int kMT = HD <= 128 && !DEC && SPARSE != 64 ? 2 : 1;
  // Registers are short in the two-tile head-dim-128 kernels: O and S fragments take 192
  // of a thread's 255. There ptxas spills (sm_80, sm_90) when the head-dim loops lose
  // their run-time bounds, when S is set by its first mma instead of zeroed registers, or
  // when the tile copies are unrolled (it hoists fragment loads and chunk addresses).
  static constexpr bool kTight = !DEC && HD == 128 && kMT == 2;
  // Decode: every warp multiplies all 16 rows of Q with each of its key slices; up to head
  // dim 64 the warp keeps Q's fragments in registers rather than reloading them per block
  // (at 128 they would cost the third block per multiprocessor).
  static constexpr bool kQRegs = DEC && HD <= 64;
  // Blocks per multiprocessor asked of ptxas (__launch_bounds__): two, as FlashAttention-2,
  // up to 255 registers a thread; more where the fragments are small enough to fit
  // without spilling (one m16 tile of a 64-row mask block, head dim 32, decode).
  static constexpr int kMinBlocks = DEC || SPARSE == 64 ? (HD <= 64 ? 4 : HD <= 128 ? 3 : 2) : HD == 32 ? 3 : 2;
  static constexpr int kBM = DEC ? 16 : kWarps * 16 * kMT;
  static constexpr int kBN = DEC ? (HD <= 128 ? 128 : 64) : (HD <= 128 ? 64 : 32);
  static constexpr int kBNW = DEC ? kBN / kWarps : kBN;  // keys of a block each warp takes
  static constexpr int kStride = HD + 8;  // 16 bytes of padding: conflict-free ldmatrix rows
  static constexpr int kSmem = (kBM + 2 * kBN) * kStride * 2;
  // 99 KiB: the per-block limit of sm_86 / sm_89, the smallest of the targets.
  static_assert(kSmem <= 101376, "attention tile exceeds the shared memory of sm_86/sm_89");
  static_assert(HD % 32 == 0 && HD <= 256);
  // The decode merge reuses the tiles' memory: per warp 16 rows of O, max and sum.
  static_assert(!DEC || kWarps * 16 * (HD + 2) * 4 <= kSmem);
};

// A K or V tile, rows [j0, j0 + ROWS) of one head, copied into shared memory by the
// block's 128 threads, 16 bytes (8 elements) per chunk: thread tid takes chunks
// tid, tid + 128, ..., chunk c being row c / (HD / 8), columns (c % (HD / 8)) * 8 + [0, 8).
// Columns past `cols` and rows past Nk are zeros (never poison: 0 * NaN). Asynchronous
// (cp.async) when the call's rows are 16-byte aligned (FwdParams::vec), else element by
// element. Tiles inside Nk whose rows are whole (cols == HD: the call's head dim is the
// kernel's) take every chunk unpredicated; others test each chunk. Those choices are one
// branch per tile, not per chunk.
// UNROLLED: whole tiles in straight-line code from one running source pointer and one
// shared address; false where registers are short (TcTile::kTight).
template <int ROWS, int HD, int STRIDE, bool UNROLLED>
struct TileCopy {
  static constexpr int kPerRow = HD / 8, kChunks = ROWS * kPerRow / 128;
  static_assert(ROWS * kPerRow % 128 == 0, "a tile is a whole number of chunks per thread");
  // With a row's chunks dividing 128 (every head dim but 96), a thread's chunks share a
  // column and lie kRowStep rows apart.
  static constexpr bool kColumn = 128 % kPerRow == 0;
  static constexpr int kRowStep = kColumn ? 128 / kPerRow : 0;

  static SUBQ_DEVICE int row(int tid, int k) { return kColumn ? tid / kPerRow + k * kRowStep : (tid + k * 128) / kPerRow; }
  static SUBQ_DEVICE int col(int tid, int k) { return (kColumn ? tid : tid + k * 128) % kPerRow * 8; }

  static SUBQ_DEVICE void load(const FwdParams& p, uint16_t* dst, const uint16_t* head, int64_t sn, int j0, int cols) {
    if (!p.vec) copy_elements(p, dst, head + int64_t(j0) * sn, sn, j0, cols);
    else if (kColumn && UNROLLED && j0 + ROWS <= p.Nk && cols == HD) copy_whole(dst, head + int64_t(j0) * sn, sn);
    else if (j0 + ROWS <= p.Nk) copy_async<false>(p, dst, head, sn, j0, cols);
    else copy_async<true>(p, dst, head, sn, j0, cols);
  }

 private:
  // Every chunk valid: one source pointer stepping kRowStep rows, one shared address.
  static SUBQ_DEVICE void copy_whole(uint16_t* dst, const uint16_t* base, int64_t sn) {
    const int r = row(threadIdx.x, 0), c = col(threadIdx.x, 0);
    chunks_from<0>(dst + r * STRIDE + c, base + r * sn + c, kRowStep * sn);
  }

  // Chunks K, K + 1, ... of a thread: shared rows kRowStep apart, the source `step` apart.
  template <int K>
  static SUBQ_DEVICE void chunks_from(uint16_t* dst, const uint16_t* src, int64_t step) {
    if constexpr (K < kChunks) {
      ptx::cp_async_16_at<K * kRowStep * STRIDE * 2>(dst, src);
      chunks_from<K + 1>(dst, src + step, step);
    }
  }

  // Chunks past `cols` (or past Nk: TAIL) are zero-filled.
  template <bool TAIL>
  static SUBQ_DEVICE void copy_async(const FwdParams& p, uint16_t* dst, const uint16_t* head, int64_t sn, int j0, int cols) {
    const uint16_t* base = head + int64_t(j0) * sn;
#pragma unroll 1
    for (int k = 0; k < kChunks; ++k) {
      const int r = row(threadIdx.x, k), c = col(threadIdx.x, k);
      const bool ok = c < cols && (!TAIL || j0 + r < p.Nk);
      ptx::cp_async_16(dst + r * STRIDE + c, ok ? base + r * sn + c : head, ok);
    }
  }

  static SUBQ_DEVICE void copy_elements(const FwdParams& p, uint16_t* dst, const uint16_t* base, int64_t sn, int j0, int cols) {
    for (int k = 0; k < kChunks; ++k) {
      const int r = row(threadIdx.x, k), c = col(threadIdx.x, k);
      for (int e = 0; e < 8; ++e) dst[r * STRIDE + c + e] = j0 + r < p.Nk && c + e < cols ? base[r * sn + c + e] : uint16_t(0);
    }
  }
};

template <int HD, bool BF16, bool DEC, int SPARSE>
// The blocks per multiprocessor of TcTile::kMinBlocks (with the thread count alone ptxas
// may aim for more blocks and spill).
__global__ void __launch_bounds__(128, (TcTile<HD, DEC, SPARSE>::kMinBlocks)) attn_fwd_tc(const FwdParams p) {
  using T = TcTile<HD, DEC, SPARSE>;
  constexpr int BM = T::kBM, BN = T::kBN, BNW = T::kBNW, S = T::kStride, MT = T::kMT;
  using KV = TileCopy<BN, HD, S, !T::kTight>;
  SIMT_DYNAMIC_SHARED(uint16_t, smem);
  uint16_t* sQ = smem;
  uint16_t* sK = sQ + BM * S;
  uint16_t* sV = sK + BN * S;

  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, t4 = lane % 4;
  const int rw = DEC ? 0 : warp;         // the warp's group of 16 * MT rows
  const int kw = DEC ? warp * BNW : 0;   // the warp's first key within a block
  const int y = blockIdx.y, b = blockIdx.z / p.splits, split = blockIdx.z % p.splits;
  const int r0 = blockIdx.x * BM, r1 = min(r0 + BM, p.rows);
  const int hk = y * p.group / (p.Hq / p.Hkv);
  const uint16_t* q = static_cast<const uint16_t*>(p.q);
  const uint16_t* kp = static_cast<const uint16_t*>(p.k) + b * p.k_sb + hk * p.k_sh;
  const uint16_t* vp = static_cast<const uint16_t*>(p.v) + b * p.v_sb + hk * p.v_sh;

  static_assert(SPARSE % BM == 0 && SPARSE % BN == 0, "a block's rows and key tiles lie in one mask block");
  const auto blocks = key_tiles<SPARSE != 0, BN>(p, b, y, r0, r1, split);
  // This thread's rows: tile mt of the warp, rows g and g + 8 (h = 0, 1), i.e.
  // block row (rw * MT + mt) * 16 + g + 8h.
  int pos[MT][2];
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int h = 0; h < 2; ++h) pos[mt][h] = map_row(p, y, min(r0 + (rw * MT + mt) * 16 + g + 8 * h, p.rows - 1)).pos;
  int i_lo, i_hi;
  pos_range(p, r0, r1, &i_lo, &i_hi);
  // Folding the scale into the exponent after the max needs a positive scale and no softcap.
  const bool fold = p.scale_log2 > 0.f && p.softcap_in == 0.f;

  float o[MT][HD / 8][4];
  OnlineSoftmax row[MT][2];  // rows g and g + 8 of each tile; l is this lane's share until the epilogue
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int d = 0; d < HD / 8; ++d) o[mt][d][0] = o[mt][d][1] = o[mt][d][2] = o[mt][d][3] = 0.f;

  int j0 = blocks.count > 0 ? blocks[0] * BN : 0;  // first key of tile `it`
  if (blocks.count > 0) {
    // Q once, 16 bytes per chunk; its rows map to (head, position) when GQA heads are packed.
    for (int c = tid; c < BM * (HD / 8); c += T::kThreads) {
      const int r = c / (HD / 8), col = c % (HD / 8) * 8;
      uint16_t* d = sQ + r * S + col;
      const bool ok = r0 + r < p.rows && col < p.D;
      const uint16_t* src = q;
      if (ok) {
        const RowMap m = map_row(p, y, r0 + r);
        src += b * p.q_sb + m.head * p.q_sh + m.pos * p.q_sn + col;
      }
      if (p.vec) ptx::cp_async_16(d, src, ok);
      else
        for (int e = 0; e < 8; ++e) d[e] = ok && col + e < p.D ? src[e] : uint16_t(0);
    }
    if constexpr (T::kQRegs) ptx::cp_async_commit();  // Q apart from K: it is read before the loop
    KV::load(p, sK, kp, p.k_sn, j0, p.D);
    ptx::cp_async_commit();
  }
  // Q's fragments held in registers (TcTile::kQRegs).
  uint32_t qf[T::kQRegs ? HD / 16 : 1][4];
  if constexpr (T::kQRegs) {
    if (blocks.count > 0) {
      ptx::cp_async_wait<1>();
      __syncthreads();  // Q landed
#pragma unroll
      for (int kk = 0; kk < HD / 16; ++kk) ptx::ldmatrix<4, false>(qf[kk], sQ + (lane % 16) * S + kk * 16 + (lane / 16) * 8);
    }
  }
  // Decode rows 8-15 of the block that are padding (past p.rows: one query of a GQA group
  // of at most 8 heads) skip the softmax: their P is left as it is, and their O (in its own
  // rows of every mma) is never stored.
  const bool pad_hi = DEC && r0 + 8 >= p.rows;
  const int d_steps = (p.D + 15) / 16, dv_steps = (p.Dv + 15) / 16;
  for (int it = 0; it < blocks.count; ++it) {
    // The next tile's first key, asked for now: a list read when sparse, needed by the K prefetch below.
    const int j1 = it + 1 < blocks.count ? blocks[it + 1] * BN : 0;
    ptx::cp_async_wait<0>();
    __syncthreads();  // K[it] landed; every warp is done with V[it-1]
    KV::load(p, sV, vp, p.v_sn, j0, p.Dv);
    ptx::cp_async_commit();

    // S = Q K^T; each K fragment serves the warp's MT tiles. The first k-step sets S
    // (tight kernels: S starts from zeroed registers). The k-steps run over the kernel's
    // head dim: past D, Q and K are zero padding (tight kernels stop at D).
    float s[MT][BNW / 8][4];
    if constexpr (T::kTight)
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int n = 0; n < BNW / 8; ++n) s[mt][n][0] = s[mt][n][1] = s[mt][n][2] = s[mt][n][3] = 0.f;
#pragma unroll
    for (int kk = 0; kk < HD / 16; ++kk) {
      uint32_t a[MT][4];
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
        if constexpr (T::kQRegs) a[mt][0] = qf[kk][0], a[mt][1] = qf[kk][1], a[mt][2] = qf[kk][2], a[mt][3] = qf[kk][3];
        else ptx::ldmatrix<4, false>(a[mt], sQ + ((rw * MT + mt) * 16 + lane % 16) * S + kk * 16 + (lane / 16) * 8);
      }
#pragma unroll
      for (int n2 = 0; n2 < BNW / 16; ++n2) {
        uint32_t bk[4];
        ptx::ldmatrix<4, false>(bk, sK + (kw + n2 * 16 + (lane / 16) * 8 + lane % 8) * S + kk * 16 + ((lane / 8) % 2) * 8);
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          if (kk == 0 && !T::kTight) {
            ptx::mma_m16n8k16_first<BF16>(s[mt][2 * n2], a[mt], bk[0], bk[1]);
            ptx::mma_m16n8k16_first<BF16>(s[mt][2 * n2 + 1], a[mt], bk[2], bk[3]);
          } else {
            ptx::mma_m16n8k16<BF16>(s[mt][2 * n2], a[mt], bk[0], bk[1]);
            ptx::mma_m16n8k16<BF16>(s[mt][2 * n2 + 1], a[mt], bk[2], bk[3]);
          }
        }
      }
      if (T::kTight && kk + 1 >= d_steps) break;  // after the first step (D >= 1): no path around it
    }

    // Scores to the log2 domain. Interior tiles (every key visible to every row, no
    // softcap, a positive scale) keep the raw products and scale them inside the
    // exponent, 2^(s * scale_log2 - max), one FFMA; other tiles take softcap or the
    // scale first, then the mask where needed: one branch per tile, none per element.
    const bool masked = !block_fully_visible(p, i_lo, i_hi, j0, BN);
    float fscale = p.scale_log2;
    if (masked || !fold) {
      fscale = 1.f;
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int n = 0; n < BNW / 8; ++n)
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            float x = s[mt][n][e];
            x = p.softcap_in != 0.f ? tanhf(x * p.softcap_in) * p.softcap_out : x * p.scale_log2;
            if (masked && !key_visible(p, pos[mt][e / 2], j0 + kw + n * 8 + 2 * t4 + e % 2)) x = -INFINITY;
            s[mt][n][e] = x;
          }
    }
    // The online softmax (the 4 lanes of a group share a row).
    float corr[MT][2];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        corr[mt][h] = 1.f;
        if (h == 1 && pad_hi) continue;
        float mx = fmaxf(s[mt][0][2 * h], s[mt][0][2 * h + 1]);
#pragma unroll
        for (int n = 1; n < BNW / 8; ++n) mx = fmaxf(mx, fmaxf(s[mt][n][2 * h], s[mt][n][2 * h + 1]));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        mx = fmaxf(row[mt][h].m, mx * fscale);
        const float base = OnlineSoftmax::offset(mx);
        corr[mt][h] = row[mt][h].rescale(base);
        float sum = 0.f;
#pragma unroll
        for (int n = 0; n < BNW / 8; ++n) {
          s[mt][n][2 * h] = fast_exp2(fmaf(s[mt][n][2 * h], fscale, -base));
          s[mt][n][2 * h + 1] = fast_exp2(fmaf(s[mt][n][2 * h + 1], fscale, -base));
          sum += s[mt][n][2 * h] + s[mt][n][2 * h + 1];
        }
        row[mt][h].advance(mx, corr[mt][h], sum);
      }
    }
    // O moves to the new maxima; skipped when no row of the warp raised its max (every
    // factor exactly 1), as for most blocks of a long row once its largest scores are seen.
    bool moved = false;
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) moved |= corr[mt][0] != 1.f || corr[mt][1] != 1.f;
    if (__any_sync(0xffffffffu, moved)) {
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int d = 0; d < HD / 8; ++d)
#pragma unroll
          for (int e = 0; e < 4; ++e) o[mt][d][e] *= corr[mt][e / 2];
    }

    ptx::cp_async_wait<0>();
    __syncthreads();  // V[it] landed; every warp is done with K[it]
    if (it + 1 < blocks.count) {
      KV::load(p, sK, kp, p.k_sn, j1, p.D);
      ptx::cp_async_commit();
    }

    // O += P V: the S accumulators of two adjacent n-tiles are the A fragment of a
    // 16-key step; P is packed to 16 bits first (half the registers of S), then each
    // 16-column step of V takes every key step.
    uint32_t pa[BNW / 16][MT][4];
#pragma unroll
    for (int kk = 0; kk < BNW / 16; ++kk)
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
        pa[kk][mt][0] = pack_half2<BF16>(s[mt][2 * kk][0], s[mt][2 * kk][1]);
        pa[kk][mt][1] = pack_half2<BF16>(s[mt][2 * kk][2], s[mt][2 * kk][3]);
        pa[kk][mt][2] = pack_half2<BF16>(s[mt][2 * kk + 1][0], s[mt][2 * kk + 1][1]);
        pa[kk][mt][3] = pack_half2<BF16>(s[mt][2 * kk + 1][2], s[mt][2 * kk + 1][3]);
      }
#pragma unroll
    for (int d2 = 0; d2 < HD / 16; ++d2) {
#pragma unroll
      for (int kk = 0; kk < BNW / 16; ++kk) {
        uint32_t bv[4];
        ptx::ldmatrix<4, true>(bv, sV + (kw + kk * 16 + ((lane / 8) % 2) * 8 + lane % 8) * S + d2 * 16 + (lane / 16) * 8);
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          ptx::mma_m16n8k16<BF16>(o[mt][2 * d2], pa[kk][mt], bv[0], bv[1]);
          ptx::mma_m16n8k16<BF16>(o[mt][2 * d2 + 1], pa[kk][mt], bv[2], bv[3]);
        }
      }
      if (T::kTight && d2 + 1 >= dv_steps) break;
    }
    j0 = j1;
  }

  // Epilogue: full row sums, normalise, store.
  constexpr Elem E = BF16 ? Elem::BF16 : Elem::F16;
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      row[mt][h].l += __shfl_xor_sync(0xffffffffu, row[mt][h].l, 1);
      row[mt][h].l += __shfl_xor_sync(0xffffffffu, row[mt][h].l, 2);
    }
  if constexpr (DEC) {
    // Each warp saw a quarter of the keys: merge the four (max, sum, O) per row.
    __syncthreads();  // every warp is done with the tiles
    float* w_o = reinterpret_cast<float*>(smem);  // [warp][16][HD]
    float* w_m = w_o + T::kWarps * 16 * HD;       // [warp][16]
    float* w_l = w_m + T::kWarps * 16;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int r = g + 8 * h;
#pragma unroll
      for (int d = 0; d < HD / 8; ++d) {
        w_o[(warp * 16 + r) * HD + d * 8 + 2 * t4] = o[0][d][2 * h];
        w_o[(warp * 16 + r) * HD + d * 8 + 2 * t4 + 1] = o[0][d][2 * h + 1];
      }
      if (t4 == 0) w_m[warp * 16 + r] = row[0][h].m, w_l[warp * 16 + r] = row[0][h].l;
    }
    __syncthreads();
    for (int e = tid; e < 16 * HD; e += T::kThreads) {
      const int r = e / HD, col = e % HD;
      if (r0 + r >= p.rows || col >= p.Dv) continue;
      OnlineSoftmax all;
      for (int w = 0; w < T::kWarps; ++w) all.m = fmaxf(all.m, w_m[w * 16 + r]);
      const float base = OnlineSoftmax::offset(all.m);
      float acc = 0.f;
      for (int w = 0; w < T::kWarps; ++w) {
        const float c = all.absorb({w_m[w * 16 + r], w_l[w * 16 + r]}, base);
        acc += c * w_o[(w * 16 + r) * HD + col];
      }
      const RowMap rm = map_row(p, y, r0 + r);
      store_row_value<E>(p, b, split, rm, col, all.l > 0.f ? acc / all.l : 0.f);
      if (col == 0) store_row_lse(p, b, split, rm, all.lse());
    }
  } else {
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const float l = row[mt][h].l;
        const int r = r0 + (rw * MT + mt) * 16 + g + 8 * h;
        if (r >= p.rows) continue;
        const RowMap rm = map_row(p, y, r);
        const float inv = l > 0.f ? 1.f / l : 0.f;
#pragma unroll
        for (int d = 0; d < HD / 8; ++d) {
          store_row_value<E>(p, b, split, rm, d * 8 + 2 * t4, o[mt][d][2 * h] * inv);
          store_row_value<E>(p, b, split, rm, d * 8 + 2 * t4 + 1, o[mt][d][2 * h + 1] * inv);
        }
        if (t4 == 0) store_row_lse(p, b, split, rm, row[mt][h].lse());
      }
  }
}

template <bool BF16, int HD, bool DEC, int SPARSE>
void launch_fwd_tc(const FwdParams& p, dim3 grid, cudaStream_t stream) {
  using T = TcTile<HD, DEC, SPARSE>;
  launch_with_smem(attn_fwd_tc<HD, BF16, DEC, SPARSE>, grid, T::kThreads, T::kSmem, stream, p);
}

template <bool BF16, int HD, bool DEC, int SPARSE>
int fwd_tc_blocks_per_sm() {
  using T = TcTile<HD, DEC, SPARSE>;
  return resident_blocks(attn_fwd_tc<HD, BF16, DEC, SPARSE>, T::kThreads, T::kSmem);
}

template <bool BF16, int HD, bool DEC, int SPARSE>
FwdKernel fwd_tc_kernel() {
  return {&launch_fwd_tc<BF16, HD, DEC, SPARSE>, &fwd_tc_blocks_per_sm<BF16, HD, DEC, SPARSE>};
}

// Instantiated per element type by attn_fwd_f16.cu and attn_fwd_bf16.cu: every kernel of
// the head-dim lists.
template <bool BF16>
FwdKernel tc_kernel(int hd, bool decode, int sparse) {
  return HeadDims::with(hd, [&](auto d) {
    constexpr int HD = decltype(d)::value;
    if (sparse == 64) return fwd_tc_kernel<BF16, HD, false, sparse_tile(HD, 64)>();
    if (sparse == 128) return fwd_tc_kernel<BF16, HD, false, sparse_tile(HD, 128)>();
    if (decode) return fwd_tc_kernel<BF16, DecodeHeadDims::at_least(HD), true, 0>();
    return fwd_tc_kernel<BF16, HD, false, 0>();
  });
}

}  // namespace subq::cuda
