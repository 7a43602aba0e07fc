// Quantization kernels (semantics: core/quant_params.h, docs/semantics.md "Quantized
// attention"): the per-channel mean of smoothing, each group's scale and values, and
// dequantization. Every fp32 step is the CPU's (cpu/quant.cpp), in the same order and
// without contraction, so the two backends write the same bits.
#pragma once
#include <cstdint>

#include "numeric.cuh"
#include "quant_math.cuh"

namespace subq::cuda {

// A float [B, H, N, D] input: element strides, the last dimension contiguous.
struct QuantSrc {
  const void* x;
  int64_t sb, sh, sn;
};

// A quantized [B, H, N, D] tensor (core/quant_params.h's QuantView): rows contiguous.
struct QuantBufs {
  uint8_t* data;
  float* scales;  // [B, H, groups]
  float* mean;    // [B, H, D], or null when not smoothed
  int bits;
  int64_t group;  // tokens per scale
  int B, H, N, D;

  SUBQ_DEVICE int64_t row_bytes() const { return bits == 8 ? D : (D + 1) / 2; }
  SUBQ_DEVICE int64_t groups() const { return (N + group - 1) / group; }
};

// mean[b, h, c] = fp32(sum_n x[b, h, n, c] / N), the sum in fp64 in token order (the
// CPU's order, so the same bits): one thread per channel, neighbours read neighbours.
template <Elem E>
__global__ void quant_mean(const QuantSrc s, const QuantBufs q) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= int64_t(q.B) * q.H * q.D) return;
  const int c = int(i % q.D), h = int(i / q.D % q.H), b = int(i / q.D / q.H);
  const int64_t base = b * s.sb + h * s.sh + c;
  double sum = 0;
  for (int n = 0; n < q.N; ++n) sum += load_elem<E>(s.x, base + n * s.sn);
  q.mean[i] = float(sum / double(q.N));
}

// One group of rows per block: blockIdx = (group, head, batch). The scale is the
// group's max |x - mean| / qmax (a NaN is left out, as fmaxf does), then each value
// rounds half away from zero; INT4 threads own whole bytes (two channels).
template <Elem E>
__global__ void quant_values(const QuantSrc s, const QuantBufs q) {
  SIMT_DYNAMIC_SHARED(float, warp_max);  // [blockDim.x / 32]
  const int g = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  const int64_t n0 = g * q.group, rows = q.group < q.N - n0 ? q.group : q.N - n0;
  const int qmax = q.bits == 8 ? 127 : 7;
  const float* mean = q.mean ? q.mean + (int64_t(b) * q.H + h) * q.D : nullptr;
  const int64_t base = b * s.sb + h * s.sh + n0 * s.sn;
  auto y = [&](int64_t r, int c) {
    return load_elem<E>(s.x, base + r * s.sn + c) - (mean ? mean[c] : 0.f);
  };

  float amax = 0.f;
  for (int64_t e = threadIdx.x; e < rows * q.D; e += blockDim.x) amax = fmaxf(amax, fabsf(y(e / q.D, int(e % q.D))));
  for (int o = 16; o > 0; o /= 2) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
  if (threadIdx.x % 32 == 0) warp_max[threadIdx.x / 32] = amax;
  __syncthreads();
  for (unsigned w = 0; w < blockDim.x / 32; ++w) amax = fmaxf(amax, warp_max[w]);
  const float scale = amax / float(qmax);
  if (threadIdx.x == 0) q.scales[(int64_t(b) * q.H + h) * q.groups() + g] = scale;

  auto value = [&](int64_t r, int c) { return scale > 0.f ? quantize_value(y(r, c) / scale, qmax) : 0; };
  const int64_t rb = q.row_bytes();
  uint8_t* out = q.data + ((int64_t(b) * q.H + h) * q.N + n0) * rb;
  for (int64_t e = threadIdx.x; e < rows * rb; e += blockDim.x) {
    const int64_t r = e / rb;
    const int c = int(e % rb);
    if (q.bits == 8) {
      out[e] = uint8_t(int8_t(value(r, c)));
    } else {
      const int lo = value(r, 2 * c), hi = 2 * c + 1 < q.D ? value(r, 2 * c + 1) : 0;
      out[e] = uint8_t((lo & 15) | (hi & 15) << 4);
    }
  }
}

// out[b, h, n, x] = fp32(fp32(value * scale) + mean) (0 added without a mean, as the CPU
// does): one thread per element of a row, blockIdx = (row, head, batch).
__global__ void dequant_rows(const QuantBufs q, float* out, int64_t sb, int64_t sh, int64_t sn) {
  const int n = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  const int64_t bh = int64_t(b) * q.H + h;
  const uint8_t* row = q.data + (bh * q.N + n) * q.row_bytes();
  const float scale = q.scales[bh * q.groups() + n / q.group];
  for (int x = threadIdx.x; x < q.D; x += blockDim.x)
    out[b * sb + h * sh + n * sn + x] =
        add_rn(mul_rn(float(quant_value(row, q.bits, x)), scale), q.mean ? q.mean[bh * q.D + x] : 0.f);
}

// Quantized attention's smoothK term: q_bias[b, h, i] = fp32(unit * q_i . km(b, h / ratio)),
// q in fp32, the sum in fp64 in channel order (the CPU's). One thread per query row.
template <Elem E>
__global__ void quant_q_bias(const QuantSrc q, const float* km, int B, int Hq, int Nq, int D, int ratio, double unit,
                             float* out) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= int64_t(B) * Hq * Nq) return;
  const int n = int(i % Nq), h = int(i / Nq % Hq), b = int(i / Nq / Hq);
  const float* m = km + (int64_t(b) * (Hq / ratio) + h / ratio) * D;
  const int64_t base = b * q.sb + h * q.sh + n * q.sn;
  double dot = 0;
  for (int x = 0; x < D; ++x) dot = add_rn(dot, mul_rn(double(load_elem<E>(q.x, base + x)), double(m[x])));
  out[i] = float(unit * dot);
}

// smoothQ's term: qm_k[b, h, j] = fp32(unit * qm(b, h) . deq(K'_j)), deq in fp32, the sum in
// fp64 in channel order. One thread per (query head, key).
__global__ void quant_qm_k(const float* qm, const QuantBufs k, int Hq, double unit, float* out) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= int64_t(k.B) * Hq * k.N) return;
  const int j = int(i % k.N), h = int(i / k.N % Hq), b = int(i / k.N / Hq), hk = h / (Hq / k.H);
  const int64_t bhk = int64_t(b) * k.H + hk;
  const uint8_t* row = k.data + (bhk * k.N + j) * k.row_bytes();
  const float s = k.scales[bhk * k.groups() + j / k.group];
  const float* m = qm + (int64_t(b) * Hq + h) * k.D;
  double dot = 0;
  for (int x = 0; x < k.D; ++x)
    dot = add_rn(dot, mul_rn(double(m[x]), double(mul_rn(float(quant_value(row, k.bits, x)), s))));
  out[i] = float(unit * dot);
}

}  // namespace subq::cuda
