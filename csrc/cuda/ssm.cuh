// CUDA kernels of the state-space family (semantics in core/ssm_params.h).
//
// Selective scan: one block per (sequence, tile of TC channels of one group), one warp
// per channel. The sequence is walked in chunks of 32*IT steps, IT consecutive steps
// per lane. For each state n the recurrence x_l = a_l x_{l-1} + b_l with a = exp(dt*A),
// b = dt*B*u is a scan over the pairs (a, b) under (a0,b0) o (a1,b1) = (a1*a0, a1*b0 + b1):
// each lane composes its IT pairs, a warp scan gives every lane the composition of the
// pairs before it, and the state carried from the previous chunk (initially the initial
// state) seeds it; the lane then replays its steps for y. Varying B and C of a chunk are
// staged in shared memory, 16 states at a time, and serve every channel of the tile:
// B and C are read from memory once per tile rather than once per channel.
// Element types, conversions and fast_exp2 are numeric.cuh's, so the kernels need no
// CUDA header and also compile under the SIMT emulator (csrc/simt).
#pragma once
#include <cstdint>

#include "../core/log2.h"
#include "numeric.cuh"

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
SUBQ_DEVICE Pair identity() { return {1.f, 0.f}; }

// first, then second.
SUBQ_DEVICE Pair compose(Pair first, Pair second) { return {second.a * first.a, second.a * first.b + second.b}; }

// Inclusive scan of one pair per lane over the warp.
SUBQ_DEVICE Pair warp_inclusive_scan(Pair v) {
  const int lane = threadIdx.x & 31;
#pragma unroll
  for (int o = 1; o < 32; o <<= 1) {
    const Pair t{__shfl_up_sync(0xffffffffu, v.a, o), __shfl_up_sync(0xffffffffu, v.b, o)};
    if (lane >= o) v = compose(t, v);
  }
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
  bool B_var, C_var, softplus;
  const float *D, *bias;
  const float* init;
  int64_t init_s0, init_s1;
  float* last;
  int64_t last_s0, last_s1;
  const int64_t* seqs;  // [sequences][4]: batch, start, length, state slot
  int64_t dstate, dpg;  // states, channels per group
};

// Grid: (group tiles, sequences); block: TC warps.
template <Elem E, int TC, int IT>
__global__ void selective_scan_kernel(ScanArgs a) {
  using T = elem_t<E>;
  constexpr int kChunk = 32 * IT, kSlab = 16;
  static_assert(kSlab <= 32, "a slab's per-state values sit one per lane");
  // Step l of a chunk at (l % IT) * 33 + l / IT: lane j reads steps j*IT + i at i*33 + j,
  // 32 different banks.
  constexpr int kStage = IT * 33;
  __shared__ float stage_B[kSlab][kStage], stage_C[kSlab][kStage];
  __shared__ float x_carry[TC][256];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t tiles = (a.dpg + TC - 1) / TC, g = blockIdx.x / tiles, seq = blockIdx.y;
  const int64_t c0 = g * a.dpg + (blockIdx.x % tiles) * TC;
  const int64_t c = c0 + warp;
  const bool live = c < (g + 1) * a.dpg;  // warps past the group's end compute nothing
  const int64_t batch = a.seqs[4 * seq], start = a.seqs[4 * seq + 1], len = a.seqs[4 * seq + 2], slot = a.seqs[4 * seq + 3];
  const int64_t N = a.dstate;
  for (int64_t n = lane; n < N; n += 32)
    x_carry[warp][n] = live && a.init ? a.init[slot * a.init_s0 + c * a.init_s1 + n] : 0.f;
  const float bias = live && a.bias ? a.bias[c] : 0.f, Dc = live && a.D ? a.D[c] : 0.f;
  const T* u_row = static_cast<const T*>(a.u) + batch * a.u_s0 + c * a.u_s1 + start;
  const T* d_row = static_cast<const T*>(a.delta) + batch * a.dl_s0 + c * a.dl_s1 + start;
  const int64_t Bb = batch * a.B_s[0] + g * a.B_s[1] + start, Cb = batch * a.C_s[0] + g * a.C_s[1] + start;

  for (int64_t l0 = 0; l0 < len; l0 += kChunk) {
    const int64_t first = l0 + int64_t(lane) * IT;  // this lane's first step
    const int64_t valid = !live || first >= len ? 0 : len - first < IT ? len - first : IT;
    const int64_t steps = len - l0 < kChunk ? len - l0 : kChunk;
    float u[IT], dt[IT], du[IT], y[IT];
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
      y[i] = 0.f;
    }
    for (int64_t n0 = 0; n0 < N; n0 += kSlab) {
      const int ns = int(N - n0 < kSlab ? N - n0 : kSlab);
      __syncthreads();  // the previous slab is consumed
      for (int k = threadIdx.x; k < ns * kChunk; k += TC * 32) {
        const int n = k / kChunk, l = k % kChunk, at = (l % IT) * 33 + l / IT;
        if (a.B_var) stage_B[n][at] = l < steps ? load(a.B, Bb + (n0 + n) * a.B_s[2] + l0 + l) : 0.f;
        if (a.C_var) stage_C[n][at] = l < steps ? load(a.C, Cb + (n0 + n) * a.C_s[2] + l0 + l) : 0.f;
      }
      __syncthreads();
      // The slab's per-state values of this channel, lane n holding state n0 + n
      // (kSlab <= 32): A in the log2 domain, and B and C when they do not vary.
      const bool mine = live && lane < ns;
      const float lane_A2 = mine ? a.A[c * a.A_s0 + n0 + lane] * kLog2eF : 0.f;
      const float lane_B = mine && !a.B_var ? load(a.B, c * a.B_s[0] + n0 + lane) : 0.f;
      const float lane_C = mine && !a.C_var ? load(a.C, c * a.C_s[0] + n0 + lane) : 0.f;
      for (int n = 0; n < ns; ++n) {
        const float A2 = __shfl_sync(0xffffffffu, lane_A2, n);
        const float Bc = __shfl_sync(0xffffffffu, lane_B, n), Cc = __shfl_sync(0xffffffffu, lane_C, n);
        float ra[IT], rb[IT];
#pragma unroll
        for (int i = 0; i < IT; ++i) {
          ra[i] = fast_exp2(dt[i] * A2);
          rb[i] = du[i] * (a.B_var ? stage_B[n][i * 33 + lane] : Bc);
        }
        Pair agg{ra[0], rb[0]};
#pragma unroll
        for (int i = 1; i < IT; ++i) agg = compose(agg, Pair{ra[i], rb[i]});
        const Pair inc = warp_inclusive_scan(agg);
        Pair ex{__shfl_up_sync(0xffffffffu, inc.a, 1), __shfl_up_sync(0xffffffffu, inc.b, 1)};
        if (lane == 0) ex = identity();
        const Pair total{__shfl_sync(0xffffffffu, inc.a, 31), __shfl_sync(0xffffffffu, inc.b, 31)};
        const float xp = x_carry[warp][n0 + n];
        float x = ex.a * xp + ex.b;
#pragma unroll
        for (int i = 0; i < IT; ++i) {
          x = ra[i] * x + rb[i];
          y[i] += x * (a.C_var ? stage_C[n][i * 33 + lane] : Cc);
        }
        __syncwarp();  // every lane has read x_carry before lane 0 moves it on
        if (lane == 0) x_carry[warp][n0 + n] = total.a * xp + total.b;
      }
    }
    if (a.z) {
      float z[IT];
      load_items<E, IT>(static_cast<const T*>(a.z) + batch * a.z_s0 + c * a.z_s1 + start + first, valid, z);
#pragma unroll
      for (int i = 0; i < IT; ++i) y[i] = (y[i] + Dc * u[i]) * silu(z[i]);
    } else {
#pragma unroll
      for (int i = 0; i < IT; ++i) y[i] += Dc * u[i];
    }
    store_items<E, IT>(static_cast<T*>(a.out) + batch * a.o_s0 + c * a.o_s1 + start + first, valid, y);
  }
  __syncwarp();
  if (live && a.last)
    for (int64_t n = lane; n < N; n += 32) a.last[slot * a.last_s0 + c * a.last_s1 + n] = x_carry[warp][n];
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
