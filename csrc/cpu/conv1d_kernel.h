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
  // taps unroll into independent FMAs. Stream: whole vectors from the first 64-byte
  // line boundary of out on are streamed (the lines before it and the tail stored).
  template <int K, bool Stream>
  static void taps(const float* xb, const float* w, float bias, bool silu, int64_t lc, float* out) {
    T wk[K];
    for (int k = 0; k < K; ++k) wk[k] = V::set1(w[k]);
    auto one = [&](int64_t at, int n, bool stream) {
      T acc = V::set1(bias);
      for (int k = 0; k < K; ++k) acc = V::fmadd(wk[k], n == W ? V::load(xb + at + k) : V::load_n(xb + at + k, n), acc);
      if (silu) acc = vsilu<V>(acc);
      if (stream) V::stream(out + at, acc);
      else if (n == W) V::store(out + at, acc);
      else V::store_n(out + at, acc, n);
    };
    int64_t l = 0;
    if constexpr (Stream) {
      const uintptr_t at = reinterpret_cast<uintptr_t>(out);
      const int64_t lead = at % 4 ? lc : imin(lc, int64_t((64 - at % 64) % 64 / 4));
      while (l < lead) {
        const int n = int(imin(W, lead - l));
        one(l, n, false);
        l += n;
      }
      for (; l + W <= lc; l += W) one(l, W, true);
    }
    for (; l + W <= lc; l += W) one(l, W, false);
    if (l < lc) one(l, int(lc - l), false);
  }

  using TapsFn = void (*)(const float*, const float*, float, bool, int64_t, float*);
  template <bool Stream>
  static TapsFn pick(int64_t width) {
    static const TapsFn fns[] = {taps<2, Stream>, taps<3, Stream>, taps<4, Stream>, taps<5, Stream>,
                                 taps<6, Stream>, taps<7, Stream>, taps<8, Stream>};
    return fns[width - 2];
  }

  // stream: write the fp32 output with streaming stores (the driver decides when).
  static void run(const Conv1dParams& p, bool stream, int t, int n) {
    const int64_t items = int64_t(p.seqs.size()) * p.dim;
    const int64_t i0 = items * t / n, i1 = items * (t + 1) / n;
    if (i0 >= i1) return;
    const int64_t h = p.width - 1;
    const TapsFn f = pick<false>(p.width), f_stream = stream ? pick<true>(p.width) : f;
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
        if (sq.len > h) f_stream(x, w.data(), bias, p.silu, sq.len - h, o + h);
        for (int64_t k = 0; k < h; ++k) xb[k] = xb[head + k];
        for (int64_t k = 0; k < h && sq.len > h; ++k) xb[k] = x[sq.len - h + k];
      } else {
        for (int64_t l0 = 0; l0 < sq.len; l0 += kChunk) {
          const int64_t lc = imin(kChunk, sq.len - l0);
          read_row<V>(p.x, xrow + l0, lc, xb.data() + h);
          f(xb.data(), w.data(), bias, p.silu, lc, out.data());
          if (stream) stream_floats<V>(out.data(), p.out.ptr<float>() + orow + l0, lc);
          else write_row<V>(p.out, orow + l0, lc, out.data());
          for (int64_t k = 0; k < h; ++k) xb[k] = xb[lc + k];  // the last w-1 inputs lead the next chunk
        }
      }
      const TensorView& fs = p.final_states;
      if (fs.data) write_row<V>(fs, sq.slot * fs.stride[0] + c * fs.stride[1], h, xb.data());
    }
    if (stream) V::stream_fence();
  }
};

}  // namespace
}  // namespace subq::cpu
