// XAttention block scores on CUDA cores, fp32 accumulation (semantics, and the
// names S, R, A, P: core/xattention_params.h). A reduced query row is the
// reversed concatenation of S query rows, a reduced key the concatenation of S
// key rows, so A[i][j] is one dot product of S*D values.
//
// One block of 4 warps owns one query block: its R reduced query rows (R/4 per
// warp) against every visible reduced key, 32 keys at a time (lane j takes key
// j of the chunk; the S*D values stream through shared memory 64 at a time).
// Pass 1 finds each row's softmax max and sum; pass 2 recomputes A (the scores
// of a row do not fit anywhere) and sums P over the block's rows and each key
// block's R keys: lanes, then the warp's rows, then the 4 warps in a fixed
// order, so the result does not depend on scheduling. R divides 32, so a chunk
// holds whole key blocks and each output is written once.
//
// fp16 / bf16 inputs take the products to the tensor cores (chunk_scores_tc): the R x 32
// tile of A is mma.sync m16n8k16 with fp32 accumulation over 16-bit values staged raw in
// shared memory (rows padded to 16: R = 4 and 8 leave part of the m-tile empty), then
// handed to the same softmax and block sums through a shared score tile. The products of
// 16-bit floats are exact in fp32, so only the order of the fp32 sums differs from the
// CUDA-core path. fp32 inputs keep the CUDA-core products (chunk_scores).
#include <string>

#include "../core/error.h"
#include "../core/log2.h"
#include "launch_check.cuh"
#include "numeric.cuh"
#include "ptx.cuh"
#include "softmax.cuh"
#include "xattn_launch.h"

namespace subq::cuda {

namespace {

constexpr int kThreads = 128, kKeys = 32, kInner = 64;

struct XScoreArgs {
  const void* q;
  const void* k;
  float* out;
  int64_t q_sb, q_sh, q_sn, k_sb, k_sh, k_sn, o_sb, o_sh, o_sq;
  int Hq, Hkv, Nq, Nk, D, S, nkb, reduced_q, reduced_k;
  int key_shift;     // causal: reduced key j is visible to reduced query i when j <= i + key_shift
  bool causal;
  float logit_log2;  // scale / S * log2(e): logits in the log2 domain
};

// Visible reduced keys [0, key_end) of reduced query i (XAttentionParams::key_end).
SUBQ_DEVICE int key_end(const XScoreArgs& a, int i) {
  if (!a.causal) return a.reduced_k;
  const int last = i + a.key_shift;
  return last + 1 < a.reduced_k ? last + 1 : a.reduced_k;
}

// Scores of one chunk: s[r] = A * scale / S (log2 domain) of the warp's row r
// (reduced query i0 + warp * RW + r) and reduced key c0 + lane; -inf when hidden.
template <Elem E, int RW>
SUBQ_DEVICE void chunk_scores(const XScoreArgs& a, float* sQ, float* sK, int64_t qbase, int64_t kbase, int i0, int c0,
                              float (&s)[RW]) {
  constexpr int R = 4 * RW, KS = kInner + 1;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, inner = a.S * a.D;
#pragma unroll
  for (int r = 0; r < RW; ++r) s[r] = 0.f;
  for (int e0 = 0; e0 < inner; e0 += kInner) {
    __syncthreads();  // every warp is done with the previous chunk (and with sW)
    for (int x = tid; x < R * kInner; x += kThreads) {
      const int e = e0 + x % kInner, t = e / a.D, d = e % a.D, row = (i0 + x / kInner) * a.S + (a.S - 1 - t);
      sQ[x] = e < inner && row < a.Nq ? load_elem<E>(a.q, qbase + row * a.q_sn + d) : 0.f;
    }
    for (int x = tid; x < kKeys * kInner; x += kThreads) {
      const int e = e0 + x % kInner, t = e / a.D, d = e % a.D, row = (c0 + x / kInner) * a.S + t;
      sK[(x / kInner) * KS + x % kInner] = e < inner && row < a.Nk ? load_elem<E>(a.k, kbase + row * a.k_sn + d) : 0.f;
    }
    __syncthreads();
    for (int e = 0; e < kInner; ++e) {
      const float kv = sK[lane * KS + e];
#pragma unroll
      for (int r = 0; r < RW; ++r) s[r] = fmaf(sQ[(warp * RW + r) * kInner + e], kv, s[r]);
    }
  }
#pragma unroll
  for (int r = 0; r < RW; ++r) {
    const int i = i0 + warp * RW + r;
    s[r] = i < a.reduced_q && c0 + lane < key_end(a, i) ? s[r] * a.logit_log2 : -INFINITY;
  }
}

// Tensor-core staging: 16-bit rows of kInner values plus 8 of padding (a row is then 36
// words: the 8 rows x 4 columns a fragment load touches fall in distinct banks).
constexpr int kInnerTc = kInner + 8;
// Staged query rows: R rounded up to whole m-tiles of 16.
template <int RW>
constexpr int kRowsTc = (4 * RW + 15) / 16 * 16;

// chunk_scores on the tensor cores (fp16 / bf16). sQ: [RP = ceil(R/16)*16][kInnerTc]
// and sK: [kKeys][kInnerTc] 16-bit; sS: [R][kKeys + 1] fp32, the A tile before scaling.
// Warp w computes key columns [8w, 8w + 8) for every m-tile of 16 reduced rows.
template <Elem E, int RW>
SUBQ_DEVICE void chunk_scores_tc(const XScoreArgs& a, uint16_t* sQ, uint16_t* sK, float* sS, int64_t qbase,
                                 int64_t kbase, int i0, int c0, float (&s)[RW]) {
  constexpr int R = 4 * RW, MT = kRowsTc<RW> / 16, SS = kKeys + 1;
  constexpr bool BF16 = E == Elem::BF16;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, t = lane % 4, inner = a.S * a.D;
  const uint16_t* q = static_cast<const uint16_t*>(a.q);
  const uint16_t* k = static_cast<const uint16_t*>(a.k);
  float acc[MT][4] = {};
  for (int e0 = 0; e0 < inner; e0 += kInner) {
    __syncthreads();  // every warp is done with the previous chunk (and with sS)
    for (int x = tid; x < MT * 16 * kInner; x += kThreads) {
      const int r = x / kInner, e = e0 + x % kInner, tt = e / a.D, d = e % a.D, row = (i0 + r) * a.S + (a.S - 1 - tt);
      sQ[r * kInnerTc + x % kInner] = r < R && e < inner && row < a.Nq ? q[qbase + row * a.q_sn + d] : uint16_t(0);
    }
    for (int x = tid; x < kKeys * kInner; x += kThreads) {
      const int e = e0 + x % kInner, tt = e / a.D, d = e % a.D, row = (c0 + x / kInner) * a.S + tt;
      sK[(x / kInner) * kInnerTc + x % kInner] = e < inner && row < a.Nk ? k[kbase + row * a.k_sn + d] : uint16_t(0);
    }
    __syncthreads();
    for (int kk = 0; kk < kInner; kk += 16) {
      // B (k x n): reg i holds k rows 2t + 8i + {0, 1} of key column g: consecutive in sK.
      const uint16_t* kr = sK + (warp * 8 + g) * kInnerTc + kk + 2 * t;
      const uint32_t b0 = *reinterpret_cast<const uint32_t*>(kr), b1 = *reinterpret_cast<const uint32_t*>(kr + 8);
#pragma unroll
      for (int m = 0; m < MT; ++m) {
        // A (row-major): reg i holds row g + 8(i%2), columns 2t + 8(i/2) + {0, 1}.
        uint32_t af[4];
#pragma unroll
        for (int i = 0; i < 4; ++i)
          af[i] = *reinterpret_cast<const uint32_t*>(sQ + (m * 16 + g + 8 * (i % 2)) * kInnerTc + kk + 2 * t + 8 * (i / 2));
        ptx::mma_m16n8k16<BF16>(acc[m], af, b0, b1);
      }
    }
  }
  // C: value i is row g + 8(i/2), column 2t + i%2 of the warp's 16 x 8 tile.
#pragma unroll
  for (int m = 0; m < MT; ++m)
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int r = m * 16 + g + 8 * (i / 2);
      if (r < R) sS[r * SS + warp * 8 + 2 * t + i % 2] = acc[m][i];
    }
  __syncthreads();
#pragma unroll
  for (int r = 0; r < RW; ++r) {
    const int i = i0 + warp * RW + r;
    s[r] = i < a.reduced_q && c0 + lane < key_end(a, i) ? sS[(warp * RW + r) * SS + lane] * a.logit_log2 : -INFINITY;
  }
}

// The explicit occupancy (1) keeps ptxas from capping sm_80 at 40 registers and spilling.
template <Elem E, int RW>
__global__ void __launch_bounds__(kThreads, 1) xattn_scores(const XScoreArgs a) {
  constexpr int R = 4 * RW, KS = kInner + 1;  // odd stride: lane j reads row j of sK without bank conflicts
  SIMT_DYNAMIC_SHARED(float, smem);
  float* sQ = smem;             // [R][kInner]
  float* sK = sQ + R * kInner;  // [kKeys][kInner + 1]
  float* sW = sK + kKeys * KS;  // [4 warps][kKeys / R] partial block sums
  // Tensor cores (fp16 / bf16): 16-bit staging and the score tile (chunk_scores_tc).
  uint16_t* tQ = reinterpret_cast<uint16_t*>(smem);
  uint16_t* tK = tQ + kRowsTc<RW> * kInnerTc;
  float* tS = reinterpret_cast<float*>(tK + kKeys * kInnerTc);
  if constexpr (E != Elem::F32) sW = tS + R * (kKeys + 1);

  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int qb = blockIdx.x, h = blockIdx.y, b = blockIdx.z, hk = h / (a.Hq / a.Hkv);
  const int i0 = qb * R;
  const int i_last = min(i0 + R, a.reduced_q) - 1;  // key_end grows with i: the last row sees the most
  const int nk = i_last >= i0 ? max(key_end(a, i_last), 0) : 0;
  const int64_t qbase = b * a.q_sb + h * a.q_sh, kbase = b * a.k_sb + hk * a.k_sh;
  auto chunk = [&](int c0, float (&s)[RW]) {
    if constexpr (E == Elem::F32) chunk_scores<E, RW>(a, sQ, sK, qbase, kbase, i0, c0, s);
    else chunk_scores_tc<E, RW>(a, tQ, tK, tS, qbase, kbase, i0, c0, s);
  };

  // Pass 1: each row's max m and sum l of 2^(s - m) (online, as attention).
  float s[RW];
  OnlineSoftmax row[RW];
  for (int c0 = 0; c0 < nk; c0 += kKeys) {
    chunk(c0, s);
#pragma unroll
    for (int r = 0; r < RW; ++r) {
      float mx = fmaxf(row[r].m, s[r]);
#pragma unroll
      for (int w = 16; w >= 1; w /= 2) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, w));
      const float base = OnlineSoftmax::offset(mx);
      float sum = fast_exp2(s[r] - base);
#pragma unroll
      for (int w = 16; w >= 1; w /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, w);
      row[r].advance(mx, row[r].rescale(base), sum);
    }
  }

  // Pass 2: P summed per key block over the block's rows; a row that sees no key adds nothing.
  float* out = a.out + b * a.o_sb + h * a.o_sh + qb * a.o_sq;
  for (int c0 = 0; c0 < nk; c0 += kKeys) {
    chunk(c0, s);
    float acc = 0.f;
#pragma unroll
    for (int r = 0; r < RW; ++r) acc += row[r].l > 0.f ? fast_exp2(s[r] - row[r].m) / row[r].l : 0.f;
#pragma unroll
    for (int w = 1; w < R; w *= 2) acc += __shfl_xor_sync(0xffffffffu, acc, w);
    if (lane % R == 0) sW[warp * (kKeys / R) + lane / R] = acc;
    __syncthreads();
    const int kb = c0 / R + tid;
    if (tid < kKeys / R && kb < a.nkb)
      out[kb] = ((sW[tid] + sW[kKeys / R + tid]) + sW[2 * (kKeys / R) + tid]) + sW[3 * (kKeys / R) + tid];
  }
  // Key blocks no chunk reached: nothing visible.
  for (int kb = (nk + kKeys - 1) / kKeys * (kKeys / R) + tid; kb < a.nkb; kb += kThreads) out[kb] = 0.f;
}

template <Elem E, int RW>
void launch(const XScoreArgs& a, dim3 grid, cudaStream_t stream) {
  const int smem = E == Elem::F32
                       ? (4 * RW * kInner + kKeys * (kInner + 1) + kKeys) * 4
                       : (kRowsTc<RW> + kKeys) * kInnerTc * 2 + (4 * RW * (kKeys + 1) + kKeys) * 4;
  SIMT_LAUNCH((xattn_scores<E, RW>), grid, dim3(kThreads), smem, stream, a);
}

template <Elem E>
void launch_rows(const XScoreArgs& a, int R, dim3 grid, cudaStream_t stream) {
  switch (R) {
    case 4: return launch<E, 1>(a, grid, stream);
    case 8: return launch<E, 2>(a, grid, stream);
    case 16: return launch<E, 4>(a, grid, stream);
    default: return launch<E, 8>(a, grid, stream);
  }
}

}  // namespace

void xattention_scores_launch(const XAttentionParams& p, CUstream_st* stream) {
  const int64_t R = p.rows_per_block();
  if (R != 4 && R != 8 && R != 16 && R != 32)
    range_error("CUDA XAttention scoring supports block / stride of 4, 8, 16 or 32, got " + std::to_string(R));
  if (p.Nq * 2 >= (int64_t(1) << 31) || p.Nk * 2 >= (int64_t(1) << 31) || p.stride * p.D >= (int64_t(1) << 30) ||
      p.B > 65535 || p.Hq > 65535)
    range_error("CUDA XAttention scoring: shape too large for one launch");
  XScoreArgs a{};
  a.q = p.q.data, a.k = p.k.data, a.out = p.scores.ptr<float>();
  a.q_sb = p.q.stride[0], a.q_sh = p.q.stride[1], a.q_sn = p.q.stride[2];
  a.k_sb = p.k.stride[0], a.k_sh = p.k.stride[1], a.k_sn = p.k.stride[2];
  a.o_sb = p.scores.stride[0], a.o_sh = p.scores.stride[1], a.o_sq = p.scores.stride[2];
  a.Hq = int(p.Hq), a.Hkv = int(p.Hkv), a.Nq = int(p.Nq), a.Nk = int(p.Nk), a.D = int(p.D), a.S = int(p.stride);
  a.nkb = int(p.nkb()), a.reduced_q = int(p.reduced_q()), a.reduced_k = int(p.reduced_k());
  a.key_shift = int((p.nkb() - p.nqb()) * R);
  a.causal = p.causal;
  a.logit_log2 = float(double(p.scale) / double(p.stride) * kLog2e);
  const dim3 grid(unsigned(p.nqb()), unsigned(p.Hq), unsigned(p.B));
  if (p.nqb() == 0) return;
  with_elem(p.q.dtype, [&](auto e) { launch_rows<decltype(e)::value>(a, int(R), grid, stream); });
  check_last_launch("XAttention scoring");
}

}  // namespace subq::cuda
