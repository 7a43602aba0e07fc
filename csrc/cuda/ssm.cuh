// CUDA kernels of the state-space family (semantics in core/ssm_params.h).
//
// Selective scan: one block per (sequence, tile of TC channels of one group), one warp
// per channel. The sequence is walked in chunks of 32*IT steps, IT consecutive steps
// per lane. For each state n the recurrence x_l = a_l x_{l-1} + b_l with a = exp(dt*A),
// b = dt*B*u is a scan over the pairs (a, b) under (a0,b0) o (a1,b1) = (a1*a0, a1*b0 + b1):
// each lane composes its IT pairs, a warp scan gives every lane the composition of the
// pairs up to its own, applied to the state carried from the previous chunk (initially
// the initial state) it is the state at the lane's last step; the lane after takes it
// and replays its steps for y. Per (step, state) the loop issues what the math needs
// (dt*A, exp2, dt*u*B, the pair's composition, the replay, y += x*C) plus 1/IT of the
// warp scan: A's log2(e) is folded in once per slab, dt*u and D*u once per chunk, and
// steps past the end get dt = 0, so the loop tests nothing per step. Varying B and C of
// a chunk are staged in shared memory, kScanSlab states at a time, and serve every
// channel of the tile: read from memory once per tile rather than once per channel,
// and by 16-byte loads in the loop. Whether B and C vary is a template argument.
// Element types, conversions and fast_exp2 are numeric.cuh's, the shuffles ptx.cuh's,
// so the kernels need no CUDA header and also compile under the SIMT emulator (csrc/simt).
#pragma once
#include <cstdint>

#include "../core/log2.h"
#include "numeric.cuh"
#include "ptx.cuh"

namespace subq::cuda::ssm {

SUBQ_DEVICE float softplus(float x) { return x <= 20.f ? log1pf(expf(x)) : x; }
SUBQ_DEVICE float silu(float x) { return x / (1.f + expf(-x)); }

// IT consecutive elements from p (n of them valid, the rest 0); 16-byte vector loads
// when the run is whole and aligned.
template <Elem E, int IT, class T = elem_t<E>>
SUBQ_DEVICE void load_items(const T* p, int64_t n, float (&v)[IT]) {
  constexpr int kVec = 16 / sizeof(T);
  if (IT % kVec == 0 && n >= IT && (reinterpret_cast<uintptr_t>(p) & 15) == 0) {
#pragma unroll
    for (int i = 0; i < IT; i += kVec) {
      const uint4 raw = *reinterpret_cast<const uint4*>(p + i);
      const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
      for (int k = 0; k < kVec; ++k) v[i + k] = to_float<E>(e[k]);
    }
    return;
  }
#pragma unroll
  for (int i = 0; i < IT; ++i) v[i] = i < n ? to_float<E>(p[i]) : 0.f;
}

template <Elem E, int IT, class T = elem_t<E>>
SUBQ_DEVICE void store_items(T* p, int64_t n, const float (&v)[IT]) {
#pragma unroll
  for (int i = 0; i < IT; ++i)
    if (i < n) p[i] = from_float<E>(v[i]);
}

// An (a, b) pair of the recurrence x -> a*x + b.
struct Pair {
  float a, b;
};

// first, then second.
SUBQ_DEVICE Pair compose(Pair first, Pair second) { return {second.a * first.a, fmaf(second.a, first.b, second.b)}; }

// Inclusive scan of one pair per lane over the warp.
SUBQ_DEVICE Pair warp_inclusive_scan(Pair v) {
#pragma unroll
  for (unsigned o = 1; o < 32; o <<= 1) ptx::affine_scan_step(v.a, v.b, o);
  return v;
}

struct ScanArgs {
  const void *u, *delta, *z;
  void* out;
  int64_t u_s0, u_s1, dl_s0, dl_s1, z_s0, z_s1, o_s0, o_s1;
  const float* A;
  int64_t A_s0;
  ElemPtr B, C;
  int64_t B_s[4], C_s[4];
  bool softplus;
  const float *D, *bias;
  const float* init;
  int64_t init_s0, init_s1;
  float* last;
  int64_t last_s0, last_s1;
  const int64_t* seqs;  // [sequences][4]: batch, start, length, state slot
  int64_t dstate, dpg;  // states, channels per group
};

// The scan's shared memory (dynamic): varying B and C of kScanSlab states of a chunk,
// and each channel's state carried from chunk to chunk. A state's row of a chunk holds
// lane j's IT steps at j * (IT + 4): a quarter warp's 16-byte reads of their steps fall
// in distinct banks.
constexpr int kScanSlab = 8;
constexpr int scan_lane_row(int IT) { return IT + 4; }
constexpr int scan_state_row(int IT) { return 32 * scan_lane_row(IT); }
constexpr int64_t scan_smem_bytes(int TC, int IT, bool B_var, bool C_var, int64_t dstate) {
  return int64_t(sizeof(float)) * ((int(B_var) + int(C_var)) * kScanSlab * scan_state_row(IT) + TC * dstate);
}

struct alignas(16) Float4 {
  float v[4];
};

// Steps [0, steps) of states [0, ns) of one chunk of a varying B or C (src at state 0,
// step 0; sn the state stride) as fp32 into the slab, in the layout above. Steps past
// `steps` are 0 (their dt is 0, and 0 * B must stay 0).
template <Elem S, int TC, int IT>
SUBQ_DEVICE void stage_slab(float* slab, const elem_t<S>* src, int64_t sn, int ns, int steps) {
  constexpr int kChunk = 32 * IT, kQuads = kChunk / 4, kPasses = kScanSlab * kQuads / (TC * 32);
  static_assert(IT % 4 == 0 && kScanSlab * kQuads % (TC * 32) == 0, "the block stages whole quads, each once");
#pragma unroll 2
  for (int j = 0; j < kPasses; ++j) {
    const int q = int(threadIdx.x) + j * TC * 32, n = q / kQuads, l = 4 * (q % kQuads);
    if (n >= ns) break;  // q grows with j: later quads are past ns too
    float v[4];
    load_items<S, 4>(src + n * sn + l, steps - l, v);
    Float4 f{{v[0], v[1], v[2], v[3]}};
    *reinterpret_cast<Float4*>(slab + n * scan_state_row(IT) + (l / IT) * scan_lane_row(IT) + l % IT) = f;
  }
}

template <int TC, int IT>
SUBQ_DEVICE void stage_slab(float* slab, ElemPtr src, int64_t at, int64_t sn, int ns, int steps) {
  const uint16_t* half = static_cast<const uint16_t*>(src.p) + at;
  switch (src.elem) {
    case Elem::F16: return stage_slab<Elem::F16, TC, IT>(slab, half, sn, ns, steps);
    case Elem::BF16: return stage_slab<Elem::BF16, TC, IT>(slab, half, sn, ns, steps);
    default: return stage_slab<Elem::F32, TC, IT>(slab, static_cast<const float*>(src.p) + at, sn, ns, steps);
  }
}

// IT values of a lane's row of the slab: 16-byte shared loads.
template <int IT>
SUBQ_DEVICE void load_row(const float* row, float (&v)[IT]) {
#pragma unroll
  for (int i = 0; i < IT; i += 4) {
    const Float4 f = *reinterpret_cast<const Float4*>(row + i);
#pragma unroll
    for (int k = 0; k < 4; ++k) v[i + k] = f.v[k];
  }
}

// Grid: (group tiles, sequences); block: TC warps; scan_smem_bytes of shared memory.
// B_var / C_var: B / C vary over time (staged per slab) or are per channel.
template <Elem E, int TC, int IT, bool B_var, bool C_var>
__global__ void __launch_bounds__(TC * 32, 2) selective_scan_kernel(ScanArgs a) {
  using T = elem_t<E>;
  constexpr int kChunk = 32 * IT, kRow = scan_lane_row(IT), kState = scan_state_row(IT);
  static_assert(kScanSlab <= 32, "a slab's per-state values sit one per lane");
  SIMT_DYNAMIC_SHARED(float, smem);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int N = int(a.dstate);
  float* const stage_B = smem;
  float* const stage_C = stage_B + (B_var ? kScanSlab * kState : 0);
  float* const carry = stage_C + (C_var ? kScanSlab * kState : 0) + warp * N;  // this channel's states
  const int64_t tiles = (a.dpg + TC - 1) / TC, g = blockIdx.x / tiles, seq = blockIdx.y;
  const int64_t c = g * a.dpg + (blockIdx.x % tiles) * TC + warp;
  const bool live = c < (g + 1) * a.dpg;  // warps past the group's end compute nothing
  const int64_t batch = a.seqs[4 * seq], start = a.seqs[4 * seq + 1], len = a.seqs[4 * seq + 2], slot = a.seqs[4 * seq + 3];
  for (int n = lane; n < N; n += 32) carry[n] = live && a.init ? a.init[slot * a.init_s0 + c * a.init_s1 + n] : 0.f;
  const float bias = live && a.bias ? a.bias[c] : 0.f, Dc = live && a.D ? a.D[c] : 0.f;
  const T* u_row = static_cast<const T*>(a.u) + batch * a.u_s0 + c * a.u_s1 + start;
  const T* d_row = static_cast<const T*>(a.delta) + batch * a.dl_s0 + c * a.dl_s1 + start;
  const int64_t Bb = batch * a.B_s[0] + g * a.B_s[1] + start, Cb = batch * a.C_s[0] + g * a.C_s[1] + start;
  const float* const A_row = a.A + c * a.A_s0;

  for (int64_t l0 = 0; l0 < len; l0 += kChunk) {
    const int64_t first = l0 + int64_t(lane) * IT;  // this lane's first step
    const int valid = !live || first >= len ? 0 : len - first < IT ? int(len - first) : IT;
    const int steps = len - l0 < kChunk ? int(len - l0) : kChunk;
    float dt[IT], du[IT], y[IT];
    {
      float u[IT];
      load_items<E, IT>(u_row + first, valid, u);
      load_items<E, IT>(d_row + first, valid, dt);
      // Steps past the end get dt = 0: exp(0 * A) = 1 and dt * u * B = 0, the identity of
      // the recurrence, so the state loop below needs no test per step.
#pragma unroll
      for (int i = 0; i < IT; ++i) {
        dt[i] += bias;
        if (a.softplus) dt[i] = softplus(dt[i]);
        dt[i] = i < valid ? dt[i] : 0.f;
        du[i] = dt[i] * u[i];
        y[i] = Dc * u[i];
      }
    }
    for (int n0 = 0; n0 < N; n0 += kScanSlab) {
      const int ns = N - n0 < kScanSlab ? N - n0 : kScanSlab;
      if constexpr (B_var || C_var) {
        __syncthreads();  // the previous slab is consumed
        if constexpr (B_var) stage_slab<TC, IT>(stage_B, a.B, Bb + n0 * a.B_s[2] + l0, a.B_s[2], ns, steps);
        if constexpr (C_var) stage_slab<TC, IT>(stage_C, a.C, Cb + n0 * a.C_s[2] + l0, a.C_s[2], ns, steps);
        __syncthreads();
      }
      // The slab's per-state values of this channel, lane n holding state n0 + n: A in the
      // log2 domain, and B and C when they do not vary.
      const bool mine = live && lane < ns;
      const float lane_A2 = mine ? A_row[n0 + lane] * kLog2eF : 0.f;
      const float lane_B = !B_var && mine ? load(a.B, c * a.B_s[0] + n0 + lane) : 0.f;
      const float lane_C = !C_var && mine ? load(a.C, c * a.C_s[0] + n0 + lane) : 0.f;
      const float* B_at = stage_B + lane * kRow;  // this lane's steps of the slab's state n
      const float* C_at = stage_C + lane * kRow;
      for (int n = 0; n < ns; ++n, B_at += kState, C_at += kState) {
        const float A2 = ptx::shfl_idx(lane_A2, n);
        float Bn[IT], ra[IT], rb[IT];
        if constexpr (B_var) load_row<IT>(B_at, Bn);
        else {
          const float Bc = ptx::shfl_idx(lane_B, n);
#pragma unroll
          for (int i = 0; i < IT; ++i) Bn[i] = Bc;
        }
#pragma unroll
        for (int i = 0; i < IT; ++i) ra[i] = fast_exp2(dt[i] * A2), rb[i] = du[i] * Bn[i];
        Pair agg{ra[0], rb[0]};
#pragma unroll
        for (int i = 1; i < IT; ++i) agg = compose(agg, Pair{ra[i], rb[i]});
        agg = warp_inclusive_scan(agg);
        // The state before this lane's steps: the previous lane's end, or the carry.
        __syncwarp();  // lane 31's carry of the previous chunk (or the initial state) is visible
        const float xp = carry[n0 + n];
        float x = ptx::shfl_up_or(fmaf(agg.a, xp, agg.b), 1, xp);
        float Cn[IT];
        if constexpr (C_var) load_row<IT>(C_at, Cn);
        else {
          const float Cc = ptx::shfl_idx(lane_C, n);
#pragma unroll
          for (int i = 0; i < IT; ++i) Cn[i] = Cc;
        }
#pragma unroll
        for (int i = 0; i < IT; ++i) {
          x = fmaf(ra[i], x, rb[i]);
          y[i] = fmaf(x, Cn[i], y[i]);
        }
        // Every lane's xp went into the shuffle above, so lane 31 may move the carry on.
        if (lane == 31) carry[n0 + n] = x;
      }
    }
    if (a.z) {
      float z[IT];
      load_items<E, IT>(static_cast<const T*>(a.z) + batch * a.z_s0 + c * a.z_s1 + start + first, valid, z);
#pragma unroll
      for (int i = 0; i < IT; ++i) y[i] *= silu(z[i]);
    }
    store_items<E, IT>(static_cast<T*>(a.out) + batch * a.o_s0 + c * a.o_s1 + start + first, valid, y);
  }
  __syncwarp();
  if (live && a.last)
    for (int n = lane; n < N; n += 32) a.last[slot * a.last_s0 + c * a.last_s1 + n] = carry[n];
}

struct UpdateArgs {
  float* state;
  int64_t st_s0, st_s1;
  const void *x, *dt, *z;
  void* out;
  int64_t x_s0, dt_s0, z_s0, o_s0;
  const float* A;
  int64_t A_s0;
  ElemPtr B, C;
  int64_t B_s0, B_s1, C_s0, C_s1;
  const float *D, *bias;
  const int64_t* slots;  // per batch row; negative = padding
  int64_t dim, dstate, dpg;
  int lanes;  // threads per channel (update_lanes)
  bool softplus;
};

// A segment of `lanes` threads (a power of two, at most 32) per (batch row, channel):
// lane t takes states t, t + lanes, ..., so a warp reads and writes the state rows, A, B
// and C in contiguous runs (one thread per channel walked 64-byte rows 64 bytes apart);
// y is summed over the segment by shuffles.
template <Elem E>
__global__ void state_update_kernel(UpdateArgs a) {
  using T = elem_t<E>;
  const int lanes = a.lanes, t = int(threadIdx.x) % lanes;
  const int64_t b = blockIdx.y, c = int64_t(blockIdx.x) * (blockDim.x / lanes) + threadIdx.x / lanes;
  const bool live = c < a.dim;  // a segment past the last channel still takes part in the shuffles
  T* out = static_cast<T*>(a.out) + b * a.o_s0 + c;
  const int64_t slot = a.slots[b];  // one batch row per block: the whole block returns
  if (slot < 0) {
    if (live && t == 0) *out = from_float<E>(0.f);
    return;
  }
  float x = 0.f, y = 0.f;
  if (live) {
    x = to_float<E>(static_cast<const T*>(a.x)[b * a.x_s0 + c]);
    float dt = to_float<E>(static_cast<const T*>(a.dt)[b * a.dt_s0 + c]) + (a.bias ? a.bias[c] : 0.f);
    if (a.softplus) dt = softplus(dt);
    const int64_t g = c / a.dpg;
    float* st = a.state + slot * a.st_s0 + c * a.st_s1;
    const float* A = a.A + c * a.A_s0;
    const int64_t Bo = b * a.B_s0 + g * a.B_s1, Co = b * a.C_s0 + g * a.C_s1;
    for (int64_t n = t; n < a.dstate; n += lanes) {
      const float s = fast_exp2(dt * (A[n] * kLog2eF)) * st[n] + (dt * x) * load(a.B, Bo + n);
      st[n] = s;
      y += s * load(a.C, Co + n);
    }
  }
  for (int off = lanes / 2; off > 0; off /= 2) y += __shfl_xor_sync(0xffffffffu, y, off);
  if (!live || t != 0) return;
  y += (a.D ? a.D[c] : 0.f) * x;
  if (a.z) y *= silu(to_float<E>(static_cast<const T*>(a.z)[b * a.z_s0 + c]));
  *out = from_float<E>(y);
}

struct ConvArgs {
  const void* x;
  void* out;
  int64_t x_s0, x_s1, o_s0, o_s1;
  ElemPtr weight, bias;
  int64_t w_s0, width;
  const void* init;  // x's dtype
  void* fin;
  int64_t init_s0, init_s1, fin_s0, fin_s1;
  const int64_t* seqs;
  bool silu;
};

// Grid (position blocks, channels, sequences); a thread per output position.
template <Elem E>
__global__ void conv1d_kernel(ConvArgs a) {
  using T = elem_t<E>;
  const int64_t c = blockIdx.y, seq = blockIdx.z;
  const int64_t batch = a.seqs[4 * seq], start = a.seqs[4 * seq + 1], len = a.seqs[4 * seq + 2], slot = a.seqs[4 * seq + 3];
  const T* xr = static_cast<const T*>(a.x) + batch * a.x_s0 + c * a.x_s1 + start;
  const T* ir = a.init ? static_cast<const T*>(a.init) + slot * a.init_s0 + c * a.init_s1 : nullptr;
  const int64_t h = a.width - 1;
  // Input at position p of the sequence; p < 0 reads the initial state.
  auto at = [&](int64_t p) { return p >= 0 ? to_float<E>(xr[p]) : ir ? to_float<E>(ir[h + p]) : 0.f; };
  float w[8];
#pragma unroll
  for (int k = 0; k < 8; ++k) w[k] = k < a.width ? load(a.weight, c * a.w_s0 + k) : 0.f;
  const float bias = a.bias.p ? load(a.bias, c) : 0.f;
  T* orow = static_cast<T*>(a.out) + batch * a.o_s0 + c * a.o_s1 + start;
  for (int64_t l = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; l < len; l += int64_t(gridDim.x) * blockDim.x) {
    float acc = bias;
    for (int k = 0; k < a.width; ++k) acc += w[k] * at(l - h + k);
    orow[l] = from_float<E>(a.silu ? silu(acc) : acc);
  }
  if (a.fin && blockIdx.x == 0)
    for (int64_t k = threadIdx.x; k < h; k += blockDim.x)
      static_cast<T*>(a.fin)[slot * a.fin_s0 + c * a.fin_s1 + k] = from_float<E>(at(len - h + k));
}

struct ConvUpdateArgs {
  const void* x;
  void* out;
  void* state;
  int64_t x_s0, x_s1, o_s0, o_s1, st_s0, st_s1, state_len, steps;
  ElemPtr weight, bias;
  int64_t w_s0, width, dim;
  const int64_t* slots;
  bool silu;
};

// One thread per (batch row, channel): steps in order, the state rolled in place.
template <Elem E>
__global__ void conv1d_update_kernel(ConvUpdateArgs a) {
  using T = elem_t<E>;
  const int64_t b = blockIdx.y, c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= a.dim) return;
  T* out = static_cast<T*>(a.out) + b * a.o_s0 + c * a.o_s1;
  const int64_t slot = a.slots[b];
  if (slot < 0) {
    for (int64_t t = 0; t < a.steps; ++t) out[t] = from_float<E>(0.f);
    return;
  }
  T* st = static_cast<T*>(a.state) + slot * a.st_s0 + c * a.st_s1;
  const T* x = static_cast<const T*>(a.x) + b * a.x_s0 + c * a.x_s1;
  const int64_t K = a.state_len, h = a.width - 1;
  const float bias = a.bias.p ? load(a.bias, c) : 0.f;
  for (int64_t t = 0; t < a.steps; ++t) {
    const float xt = to_float<E>(x[t]);
    float acc = bias + load(a.weight, c * a.w_s0 + h) * xt;
    for (int64_t k = 0; k < h; ++k) acc += load(a.weight, c * a.w_s0 + k) * to_float<E>(st[K - h + k]);
    out[t] = from_float<E>(a.silu ? silu(acc) : acc);
    for (int64_t k = 0; k + 1 < K; ++k) st[k] = st[k + 1];
    st[K - 1] = x[t];
  }
}

}  // namespace subq::cuda::ssm
