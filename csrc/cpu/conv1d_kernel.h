// Causal depthwise conv1d over a vector type V: per (sequence, channel), vectors run
// along time over a buffer that holds the w-1 previous inputs ahead of the chunk.
#pragma once
#include <cstdint>

#include "../core/cancel.h"
#include "../core/ssm_params.h"
#include "rows.h"
#include "vec_math.h"

namespace subq::cpu {
namespace {

template <class V>
struct Conv1d {
  using T = typename V::T;
  static constexpr int W = V::W;
  static constexpr int64_t kChunk = 4096;

  // out[l] = bias + sum_k w[k] * xb[l + k] for l < lc; the width is a template so the
  // taps unroll into independent FMAs.
  template <int K>
  static void taps(const float* xb, const float* w, float bias, bool silu, int64_t lc, float* out) {
    T wk[K];
    for (int k = 0; k < K; ++k) wk[k] = V::set1(w[k]);
    int64_t l = 0;
    auto one = [&](int64_t at, int n) {
      T acc = V::set1(bias);
      for (int k = 0; k < K; ++k) acc = V::fmadd(wk[k], n == W ? V::load(xb + at + k) : V::load_n(xb + at + k, n), acc);
      if (silu) acc = vsilu<V>(acc);
      if (n == W) V::store(out + at, acc);
      else V::store_n(out + at, acc, n);
    };
    for (; l + W <= lc; l += W) one(l, W);
    if (l < lc) one(l, int(lc - l));
  }

  using TapsFn = void (*)(const float*, const float*, float, bool, int64_t, float*);
  static TapsFn pick(int64_t width) {
    static const TapsFn fns[] = {taps<2>, taps<3>, taps<4>, taps<5>, taps<6>, taps<7>, taps<8>};
    return fns[width - 2];
  }

  static void run(const Conv1dParams& p, int t, int n) {
    const int64_t items = int64_t(p.seqs.size()) * p.dim;
    const int64_t i0 = items * t / n, i1 = items * (t + 1) / n;
    if (i0 >= i1) return;
    const int64_t h = p.width - 1;
    const TapsFn f = pick(p.width);
    Buf xb(h + kChunk), out(kChunk), w(p.width);
    for (int64_t it = i0; it < i1; ++it) {
      check_cancelled();
      const SsmSequence& sq = p.seqs[size_t(it / p.dim)];
      const int64_t c = it % p.dim;
      for (int64_t k = 0; k < p.width; ++k) w[k] = read_elem(p.weight, c * p.weight.stride[0] + k);
      const float bias = p.bias.data ? read_elem(p.bias, c * p.bias.stride[0]) : 0.f;
      const TensorView& is = p.initial_states;
      if (is.data) read_row<V>(is, sq.slot * is.stride[0] + c * is.stride[1], h, xb.data());
      else fill(xb.data(), h, 0.f);
      const int64_t xrow = sq.batch * p.x.stride[0] + c * p.x.stride[1] + sq.start;
      const int64_t orow = sq.batch * p.out.stride[0] + c * p.out.stride[1] + sq.start;
      if (p.x.dtype == DType::F32) {
        // fp32 reads x in place: the first w-1 outputs from the history buffer, the
        // rest straight from the row; xb ends holding the last w-1 inputs.
        const float* x = p.x.ptr<float>() + xrow;
        float* o = p.out.ptr<float>() + orow;
        const int64_t head = imin(h, sq.len);
        for (int64_t k = 0; k < head; ++k) xb[h + k] = x[k];
        f(xb.data(), w.data(), bias, p.silu, head, o);
        if (sq.len > h) f(x, w.data(), bias, p.silu, sq.len - h, o + h);
        for (int64_t k = 0; k < h; ++k) xb[k] = xb[head + k];
        for (int64_t k = 0; k < h && sq.len > h; ++k) xb[k] = x[sq.len - h + k];
      } else {
        for (int64_t l0 = 0; l0 < sq.len; l0 += kChunk) {
          const int64_t lc = imin(kChunk, sq.len - l0);
          read_row<V>(p.x, xrow + l0, lc, xb.data() + h);
          f(xb.data(), w.data(), bias, p.silu, lc, out.data());
          write_row<V>(p.out, orow + l0, lc, out.data());
          for (int64_t k = 0; k < h; ++k) xb[k] = xb[lc + k];  // the last w-1 inputs lead the next chunk
        }
      }
      const TensorView& fs = p.final_states;
      if (fs.data) write_row<V>(fs, sq.slot * fs.stride[0] + c * fs.stride[1], h, xb.data());
    }
  }
};

}  // namespace
}  // namespace subq::cpu
