// CUDA kernels of the state-space family (semantics in ops/ssm.h).
//
// Selective scan: one block per (sequence, channel). The sequence is walked in chunks
// of NT*IT steps, IT consecutive steps per thread. For each state n the recurrence
// x_l = a_l x_{l-1} + b_l with a = exp(dt*A), b = dt*B*u is a scan over the pairs
// (a, b) under (a0,b0) o (a1,b1) = (a1*a0, a1*b0 + b1): each thread composes its IT
// pairs, a block scan (warp shuffles, then the warp totals) gives every thread the
// composition of the pairs before it, and the state carried from the previous chunk
// (initially the initial state) seeds it; the thread then replays its steps for y.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace subq::cuda::ssm {

constexpr float kLog2e = 1.44269504088896341f;

// Element type codes shared by host and device: 0 fp32, 1 fp16, 2 bf16.
struct AnyF {
  const void* p = nullptr;
  int dtype = 0;
};

__device__ __forceinline__ float load(AnyF a, int64_t i) {
  if (a.dtype == 0) return static_cast<const float*>(a.p)[i];
  if (a.dtype == 1) return __half2float(static_cast<const __half*>(a.p)[i]);
  return __bfloat162float(static_cast<const __nv_bfloat16*>(a.p)[i]);
}

template <class T> __device__ __forceinline__ float to_f(T v);
template <> __device__ __forceinline__ float to_f<float>(float v) { return v; }
template <> __device__ __forceinline__ float to_f<__half>(__half v) { return __half2float(v); }
template <> __device__ __forceinline__ float to_f<__nv_bfloat16>(__nv_bfloat16 v) { return __bfloat162float(v); }

template <class T> __device__ __forceinline__ T from_f(float v);
template <> __device__ __forceinline__ float from_f<float>(float v) { return v; }
template <> __device__ __forceinline__ __half from_f<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

__device__ __forceinline__ float softplus(float x) { return x <= 20.f ? log1pf(expf(x)) : x; }
__device__ __forceinline__ float silu(float x) { return x / (1.f + expf(-x)); }

// IT consecutive elements from p (n of them valid, the rest 0); 16-byte vector loads
// when the run is whole and aligned.
template <class T, int IT>
__device__ __forceinline__ void load_items(const T* p, int64_t n, float (&v)[IT]) {
  constexpr int kVec = 16 / sizeof(T);
  if (IT % kVec == 0 && n >= IT && (reinterpret_cast<uintptr_t>(p) & 15) == 0) {
#pragma unroll
    for (int i = 0; i < IT; i += kVec) {
      const uint4 raw = *reinterpret_cast<const uint4*>(p + i);
      const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
      for (int k = 0; k < kVec; ++k) v[i + k] = to_f(e[k]);
    }
    return;
  }
#pragma unroll
  for (int i = 0; i < IT; ++i) v[i] = i < n ? to_f(p[i]) : 0.f;
}

template <class T, int IT>
__device__ __forceinline__ void store_items(T* p, int64_t n, const float (&v)[IT]) {
#pragma unroll
  for (int i = 0; i < IT; ++i)
    if (i < n) p[i] = from_f<T>(v[i]);
}

// (a, b) pairs: first then second.
__device__ __forceinline__ float2 compose(float2 first, float2 second) {
  return make_float2(second.x * first.x, second.x * first.y + second.y);
}

struct ScanResult {
  float2 exclusive, total;
};

// Exclusive scan of one pair per thread over the block, and the whole block's
// composition. warp_buf holds NT/32 pairs; callers alternate two buffers so one
// barrier per call suffices between consecutive calls.
template <int NT>
__device__ __forceinline__ ScanResult block_exclusive_scan(float2 v, float2* warp_buf) {
  constexpr int kWarps = NT / 32;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
  for (int o = 1; o < 32; o <<= 1) {
    const float2 t = make_float2(__shfl_up_sync(0xffffffffu, v.x, o), __shfl_up_sync(0xffffffffu, v.y, o));
    if (lane >= o) v = compose(t, v);
  }
  if (lane == 31) warp_buf[warp] = v;
  __syncthreads();
  if (warp == 0) {
    float2 w = lane < kWarps ? warp_buf[lane] : make_float2(1.f, 0.f);
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
      const float2 t = make_float2(__shfl_up_sync(0xffffffffu, w.x, o), __shfl_up_sync(0xffffffffu, w.y, o));
      if (lane >= o) w = compose(t, w);
    }
    if (lane < kWarps) warp_buf[lane] = w;
  }
  __syncthreads();
  float2 ex = make_float2(__shfl_up_sync(0xffffffffu, v.x, 1), __shfl_up_sync(0xffffffffu, v.y, 1));
  if (lane == 0) ex = make_float2(1.f, 0.f);
  return {warp > 0 ? compose(warp_buf[warp - 1], ex) : ex, warp_buf[kWarps - 1]};
}

struct ScanArgs {
  const void *u, *delta, *z;
  void* out;
  int64_t u_s0, u_s1, dl_s0, dl_s1, z_s0, z_s1, o_s0, o_s1;
  const float* A;
  int64_t A_s0;
  AnyF B, C;
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

template <class T, int NT, int IT>
__global__ void selective_scan_kernel(ScanArgs a) {
  constexpr int kChunk = NT * IT;
  __shared__ float2 warp_buf[2][NT / 32];
  __shared__ float x_carry[256];
  const int64_t c = blockIdx.x, seq = blockIdx.y;
  const int64_t batch = a.seqs[4 * seq], start = a.seqs[4 * seq + 1], len = a.seqs[4 * seq + 2], slot = a.seqs[4 * seq + 3];
  const int64_t g = c / a.dpg, N = a.dstate;
  for (int64_t n = threadIdx.x; n < N; n += NT)
    x_carry[n] = a.init ? a.init[slot * a.init_s0 + c * a.init_s1 + n] : 0.f;
  const float bias = a.bias ? a.bias[c] : 0.f, Dc = a.D ? a.D[c] : 0.f;
  const T* u_row = static_cast<const T*>(a.u) + batch * a.u_s0 + c * a.u_s1 + start;
  const T* d_row = static_cast<const T*>(a.delta) + batch * a.dl_s0 + c * a.dl_s1 + start;
  const int64_t Bb = batch * a.B_s[0] + g * a.B_s[1] + start, Cb = batch * a.C_s[0] + g * a.C_s[1] + start;
  __syncthreads();

  for (int64_t l0 = 0; l0 < len; l0 += kChunk) {
    const int64_t first = l0 + int64_t(threadIdx.x) * IT;  // this thread's first step
    const int64_t valid = first < len ? (len - first < IT ? len - first : IT) : 0;
    float u[IT], dt[IT], y[IT];
    load_items<T, IT>(u_row + first, valid, u);
    load_items<T, IT>(d_row + first, valid, dt);
#pragma unroll
    for (int i = 0; i < IT; ++i) {
      dt[i] += bias;
      if (a.softplus) dt[i] = softplus(dt[i]);
      y[i] = 0.f;
    }
    for (int64_t n = 0; n < N; ++n) {
      const float A2 = a.A[c * a.A_s0 + n] * kLog2e;
      const float Bc = a.B_var ? 0.f : load(a.B, c * a.B_s[0] + n);
      float ra[IT], rb[IT];
      float2 agg = make_float2(1.f, 0.f);
#pragma unroll
      for (int i = 0; i < IT; ++i) {
        const bool in = i < valid;
        const float Bv = a.B_var ? (in ? load(a.B, Bb + n * a.B_s[2] + first + i) : 0.f) : Bc;
        ra[i] = in ? exp2f(dt[i] * A2) : 1.f;  // steps past the end are the identity
        rb[i] = in ? dt[i] * u[i] * Bv : 0.f;
        agg = compose(agg, make_float2(ra[i], rb[i]));
      }
      const float xp = x_carry[n];
      const ScanResult r = block_exclusive_scan<NT>(agg, warp_buf[n & 1]);
      float x = r.exclusive.x * xp + r.exclusive.y;
      const float Cc = a.C_var ? 0.f : load(a.C, c * a.C_s[0] + n);
#pragma unroll
      for (int i = 0; i < IT; ++i) {
        x = ra[i] * x + rb[i];
        if (i < valid) y[i] += x * (a.C_var ? load(a.C, Cb + n * a.C_s[2] + first + i) : Cc);
      }
      // Everyone has read x_carry[n] before the scan's barriers.
      if (threadIdx.x == 0) x_carry[n] = r.total.x * xp + r.total.y;
    }
    if (a.z) {
      float z[IT];
      load_items<T, IT>(static_cast<const T*>(a.z) + batch * a.z_s0 + c * a.z_s1 + start + first, valid, z);
#pragma unroll
      for (int i = 0; i < IT; ++i) y[i] = (y[i] + Dc * u[i]) * silu(z[i]);
    } else {
#pragma unroll
      for (int i = 0; i < IT; ++i) y[i] += Dc * u[i];
    }
    store_items<T, IT>(static_cast<T*>(a.out) + batch * a.o_s0 + c * a.o_s1 + start + first, valid, y);
    __syncthreads();  // x_carry written by thread 0 before anyone reads it in the next chunk
  }
  if (a.last)
    for (int64_t n = threadIdx.x; n < N; n += NT) a.last[slot * a.last_s0 + c * a.last_s1 + n] = x_carry[n];
}

struct UpdateArgs {
  float* state;
  int64_t st_s0, st_s1;
  const void *x, *dt, *z;
  void* out;
  int64_t x_s0, dt_s0, z_s0, o_s0;
  const float* A;
  int64_t A_s0;
  AnyF B, C;
  int64_t B_s0, B_s1, C_s0, C_s1;
  const float *D, *bias;
  const int64_t* slots;  // per batch row; negative = padding
  int64_t dim, dstate, dpg;
  bool softplus;
};

// One thread per (batch row, channel), the N states of a channel in a loop.
template <class T>
__global__ void state_update_kernel(UpdateArgs a) {
  const int64_t b = blockIdx.y, c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= a.dim) return;
  T* out = static_cast<T*>(a.out) + b * a.o_s0 + c;
  const int64_t slot = a.slots[b];
  if (slot < 0) {
    *out = from_f<T>(0.f);
    return;
  }
  const float x = to_f(static_cast<const T*>(a.x)[b * a.x_s0 + c]);
  float dt = to_f(static_cast<const T*>(a.dt)[b * a.dt_s0 + c]) + (a.bias ? a.bias[c] : 0.f);
  if (a.softplus) dt = softplus(dt);
  const int64_t g = c / a.dpg;
  float* st = a.state + slot * a.st_s0 + c * a.st_s1;
  float y = 0.f;
  for (int64_t n = 0; n < a.dstate; ++n) {
    const float s = exp2f(dt * (a.A[c * a.A_s0 + n] * kLog2e)) * st[n] + (dt * x) * load(a.B, b * a.B_s0 + g * a.B_s1 + n);
    st[n] = s;
    y += s * load(a.C, b * a.C_s0 + g * a.C_s1 + n);
  }
  y += (a.D ? a.D[c] : 0.f) * x;
  if (a.z) y *= silu(to_f(static_cast<const T*>(a.z)[b * a.z_s0 + c]));
  *out = from_f<T>(y);
}

struct ConvArgs {
  const void* x;
  void* out;
  int64_t x_s0, x_s1, o_s0, o_s1;
  AnyF weight, bias;
  int64_t w_s0, width;
  const void* init;  // x's dtype
  void* fin;
  int64_t init_s0, init_s1, fin_s0, fin_s1;
  const int64_t* seqs;
  bool silu;
};

// Grid (position blocks, channels, sequences); a thread per output position.
template <class T>
__global__ void conv1d_kernel(ConvArgs a) {
  const int64_t c = blockIdx.y, seq = blockIdx.z;
  const int64_t batch = a.seqs[4 * seq], start = a.seqs[4 * seq + 1], len = a.seqs[4 * seq + 2], slot = a.seqs[4 * seq + 3];
  const T* xr = static_cast<const T*>(a.x) + batch * a.x_s0 + c * a.x_s1 + start;
  const T* ir = a.init ? static_cast<const T*>(a.init) + slot * a.init_s0 + c * a.init_s1 : nullptr;
  const int64_t h = a.width - 1;
  // Input at position p of the sequence; p < 0 reads the initial state.
  auto at = [&](int64_t p) { return p >= 0 ? to_f(xr[p]) : ir ? to_f(ir[h + p]) : 0.f; };
  float w[8];
#pragma unroll
  for (int k = 0; k < 8; ++k) w[k] = k < a.width ? load(a.weight, c * a.w_s0 + k) : 0.f;
  const float bias = a.bias.p ? load(a.bias, c) : 0.f;
  T* orow = static_cast<T*>(a.out) + batch * a.o_s0 + c * a.o_s1 + start;
  for (int64_t l = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; l < len; l += int64_t(gridDim.x) * blockDim.x) {
    float acc = bias;
    for (int k = 0; k < a.width; ++k) acc += w[k] * at(l - h + k);
    orow[l] = from_f<T>(a.silu ? silu(acc) : acc);
  }
  if (a.fin && blockIdx.x == 0)
    for (int64_t k = threadIdx.x; k < h; k += blockDim.x)
      static_cast<T*>(a.fin)[slot * a.fin_s0 + c * a.fin_s1 + k] = from_f<T>(at(len - h + k));
}

struct ConvUpdateArgs {
  const void* x;
  void* out;
  void* state;
  int64_t x_s0, x_s1, o_s0, o_s1, st_s0, st_s1, state_len, steps;
  AnyF weight, bias;
  int64_t w_s0, width, dim;
  const int64_t* slots;
  bool silu;
};

// One thread per (batch row, channel): steps in order, the state rolled in place.
template <class T>
__global__ void conv1d_update_kernel(ConvUpdateArgs a) {
  const int64_t b = blockIdx.y, c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= a.dim) return;
  T* out = static_cast<T*>(a.out) + b * a.o_s0 + c * a.o_s1;
  const int64_t slot = a.slots[b];
  if (slot < 0) {
    for (int64_t t = 0; t < a.steps; ++t) out[t] = from_f<T>(0.f);
    return;
  }
  T* st = static_cast<T*>(a.state) + slot * a.st_s0 + c * a.st_s1;
  const T* x = static_cast<const T*>(a.x) + b * a.x_s0 + c * a.x_s1;
  const int64_t K = a.state_len, h = a.width - 1;
  const float bias = a.bias.p ? load(a.bias, c) : 0.f;
  for (int64_t t = 0; t < a.steps; ++t) {
    const float xt = to_f(x[t]);
    float acc = bias + load(a.weight, c * a.w_s0 + h) * xt;
    for (int64_t k = 0; k < h; ++k) acc += load(a.weight, c * a.w_s0 + k) * to_f(st[K - h + k]);
    out[t] = from_f<T>(a.silu ? silu(acc) : acc);
    for (int64_t k = 0; k + 1 < K; ++k) st[k] = st[k + 1];
    st[K - 1] = x[t];
  }
}

}  // namespace subq::cuda::ssm
