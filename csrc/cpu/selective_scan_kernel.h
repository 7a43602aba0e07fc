// Selective scan and its decode update over a vector type V (vec_*.h); each ISA file
// instantiates these for its vector form.
//
// Scan layout: the W lanes of a vector are W channels of one group; a pass keeps
// kStates states of those channels in registers while the recurrence walks a chunk
// of time steps. Per chunk, the rows of u and delta are transposed in registers,
// W x W at a time, into dt, dt*u and y = D*u in [step][lane] (dt with bias and softplus
// applied once here, not in the loop); y (gated by silu(z)) is transposed back the
// same way. Varying B and C are copied to [step][state] so each step reads them as
// broadcasts, and exp(dt*A) is 2^(dt * A*log2 e) with A pre-scaled once per call.
// When max|dt| * max|A'| of a block's chunk is small the pass uses the exp without its
// range test (same bits).
#pragma once
#include <cstdint>

#include "../core/cancel.h"
#include "../core/ssm_params.h"
#include "rows.h"
#include "vec_math.h"

namespace subq::cpu {
namespace {

template <class V>
struct SelectiveScan {
  using T = typename V::T;
  static constexpr int W = V::W, P = V::kStates;

  static constexpr int64_t kStreamBytes = int64_t(8) << 20;

  struct Shape {
    int64_t N, Np;      // states, padded to a multiple of 4 (padding states stay 0)
    int64_t dpg, bpg;   // channels per group, W-lane blocks per group
    int64_t nblk, items;
    int64_t Lc;         // steps per chunk
    bool stream;        // fp32 output written with streaming stores
  };

  struct Scratch {
    Buf dt, dtu, y, tmp, Bt, Ct;  // chunk buffers
    Buf state, A2, Bc, Cc, D, bias;     // per block of the current run
    Buf amax;                           // max |A2| per block
  };

  static Shape shape(const SelectiveScanParams& p) {
    Shape s;
    s.N = p.dstate;
    s.Np = (s.N + 3) / 4 * 4;
    s.dpg = p.dim / p.groups;
    s.bpg = (s.dpg + W - 1) / W;
    s.nblk = p.groups * s.bpg;
    s.items = int64_t(p.seqs.size()) * s.nblk;
    // Long chunks: each block's rows start in new pages and cache lines once per chunk,
    // a cost per block that measured as much as a third of the scan at 256 steps. The
    // chunk's B/C copies (Lc * Np floats each, at most 256 KiB) stay inside L2.
    s.Lc = 65536 / s.Np < 32 ? 32 : 65536 / s.Np > 2048 ? 2048 : 65536 / s.Np;
    // An output larger than the caches is not read back soon: streaming stores skip
    // reading its lines before writing them.
    int64_t steps = 0;
    for (const SsmSequence& sq : p.seqs) steps += sq.len;
    s.stream = p.out.dtype == DType::F32 && steps * p.dim * 4 >= kStreamBytes;
    return s;
  }

  // One pass over `lc` steps for NP states: x = exp2(dt*A2)*x + dtu*B; y += x*C.
  // B/C are broadcasts from [step][ld] when varying, else per-lane vectors [state][W].
  // Small: every |dt*A2| < 128, so the exp needs no range test.
  template <int NP, bool BV, bool CV, bool Small>
  static void pass(int64_t lc, const float* dt, const float* dtu, const float* A2, const float* Bs,
                   const float* Cs, int64_t ld, float* st, float* y) {
    T x[NP];
    for (int i = 0; i < NP; ++i) x[i] = V::load(st + i * W);
    for (int64_t l = 0; l < lc; ++l) {
      const T d = V::load(dt + l * W), du = V::load(dtu + l * W);
      T y0 = V::load(y + l * W), y1 = V::zero();
#pragma GCC unroll 16
      for (int i = 0; i < NP; ++i) {
        const T a = V::load(A2 + i * W);
        const T dA = Small ? V::exp2_mul_small(d, a) : V::exp2_mul(d, a);
        const T b = BV ? V::set1(Bs[l * ld + i]) : V::load(Bs + i * W);
        x[i] = V::fmadd(dA, x[i], V::mul(du, b));
        const T c = CV ? V::set1(Cs[l * ld + i]) : V::load(Cs + i * W);
        if (i & 1) y1 = V::fmadd(x[i], c, y1);
        else y0 = V::fmadd(x[i], c, y0);
      }
      V::store(y + l * W, V::add(y0, y1));
    }
    for (int i = 0; i < NP; ++i) V::store(st + i * W, x[i]);
  }

  using PassFn = void (*)(int64_t, const float*, const float*, const float*, const float*, const float*, int64_t,
                          float*, float*);
  template <int NP, bool Small>
  static PassFn pick(bool bv, bool cv) {
    return bv ? (cv ? pass<NP, true, true, Small> : pass<NP, true, false, Small>)
              : (cv ? pass<NP, false, true, Small> : pass<NP, false, false, Small>);
  }
  template <int NP>
  static PassFn pick(bool bv, bool cv, bool small) {
    return small ? pick<NP, true>(bv, cv) : pick<NP, false>(bv, cv);
  }

  // d[i*ds + j] = s[j*ss + i] for i < ni, j < nj: register block transposes plus edges.
  static void transpose(const float* s, int64_t ss, float* d, int64_t ds, int64_t ni, int64_t nj) {
    constexpr int TB = V::TB;
    int64_t i0 = 0;
    for (; i0 + TB <= ni; i0 += TB) {
      int64_t j0 = 0;
      for (; j0 + TB <= nj; j0 += TB) V::transpose_block(s + j0 * ss + i0, ss, d + i0 * ds + j0, ds);
      for (int64_t i = i0; i < i0 + TB; ++i)
        for (int64_t j = j0; j < nj; ++j) d[i * ds + j] = s[j * ss + i];
    }
    for (int64_t i = i0; i < ni; ++i)
      for (int64_t j = 0; j < nj; ++j) d[i * ds + j] = s[j * ss + i];
  }

  // Row stride of the staging buffer: rows of a power-of-two length would all fall in
  // one L1 set and evict each other during the block transposes.
  static int64_t pitch(int64_t lc) { return lc + 16; }
  static int64_t round_up(int64_t lc) { return (lc + W - 1) / W * W; }

  // W rows of floats, row w at p + w*ss, readable for round_up(lc) steps.
  struct Rows {
    const float* p;
    int64_t ss;
  };

  // The fp32 rows of a full block are read in place; otherwise (another dtype, nw < W,
  // or a partial last tile) they are converted into tmp [W][pitch], zero-padded.
  static bool in_place(const TensorView& t, int64_t nw, int64_t lc) { return t.dtype == DType::F32 && nw == W && lc % W == 0; }
  static Rows rows(const TensorView& t, int64_t base, int64_t rstride, int64_t nw, int64_t lc, float* tmp) {
    if (in_place(t, nw, lc)) return {t.ptr<float>() + base, rstride};
    const int64_t pt = pitch(lc), lp = round_up(lc);
    for (int64_t w = 0; w < W; ++w) {
      int64_t at = 0;
      if (w < nw) read_row<V>(t, base + w * rstride, lc, tmp + w * pt), at = lc;
      fill(tmp + w * pt + at, lp - at, 0.f);
    }
    return {tmp, pt};
  }

  // Steps [l, l+W) of the rows, one step per vector (lanes = rows).
  static void tile(const Rows& r, int64_t l, T v[W]) {
    for (int w = 0; w < W; ++w) v[w] = V::load(r.p + w * r.ss + l);
    V::transpose(v);
  }

  // The rows of the block that runs next (u, delta, z, and out unless streamed), asked
  // for a tile at a time while this block prepares. Asked for all at once before the
  // block, most of the prefetches were dropped and its rows came from L3 as it ran.
  struct Ahead {
    const char* p[4] = {};  // out last (written)
    int64_t rs[4] = {}, esz[4] = {};
    int64_t nw = 0, lc = 0;
  };
  static Ahead ahead(const SelectiveScanParams& p, const Shape& s, const SsmSequence& sq, int64_t c0, int64_t nw,
                     int64_t pos, int64_t lc) {
    Ahead a;
    a.nw = nw, a.lc = lc;
    const TensorView* ts[4] = {&p.u, &p.delta, &p.z, s.stream ? nullptr : &p.out};
    for (int i = 0; i < 4; ++i) {
      if (!ts[i] || !ts[i]->data) continue;
      const TensorView& t = *ts[i];
      a.esz[i] = int64_t(dtype_size(t.dtype));
      a.p[i] = static_cast<const char*>(t.data) + (sq.batch * t.stride[0] + c0 * t.stride[1] + pos) * a.esz[i];
      a.rs[i] = t.stride[1] * a.esz[i];
    }
    return a;
  }
  // Steps [l, l+W) of each row.
  static void ask(const Ahead& a, int64_t l) {
    if (l >= a.lc) return;
    for (int i = 0; i < 3; ++i)
      if (a.p[i])
        for (int64_t w = 0; w < a.nw; ++w) __builtin_prefetch(a.p[i] + w * a.rs[i] + l * a.esz[i], 0, 2);
    if (a.p[3])
      for (int64_t w = 0; w < a.nw; ++w) __builtin_prefetch(a.p[3] + w * a.rs[3] + l * a.esz[3], 1, 2);
  }

  // The per-chunk steps before and after the passes are separate, non-inlined functions,
  // so that their loops are register-allocated on their own (the exp and softplus
  // constants stay in registers), as the passes are.

  // Per step l < lp: dt = softplus(delta + bias) (or without softplus), dt*u, and y
  // seeded with D*u. Returns max |dt| over the lanes.
  template <bool Softplus>
  [[gnu::noinline]] static float prepare(Rows ur, Rows dr, int64_t lp, T bias, T D, float* dt, float* dtu, float* y,
                                         const Ahead& next) {
    T dmax = V::zero();
    for (int64_t l = 0; l < lp; l += W) {
      ask(next, l);
      T v[W];  // one tile at a time: two would not fit in the registers
      tile(dr, l, v);
      for (int i = 0; i < W; ++i) {
        T d = V::add(v[i], bias);
        if (Softplus) d = vsoftplus<V>(d);
        dmax = V::max(dmax, V::abs(d));  // a NaN may be dropped: it gives NaN on either path
        V::store(dt + (l + i) * W, d);
      }
      tile(ur, l, v);
      for (int i = 0; i < W; ++i) {
        V::store(dtu + (l + i) * W, V::mul(V::load(dt + (l + i) * W), v[i]));
        V::store(y + (l + i) * W, V::mul(D, v[i]));
      }
    }
    float lanes[W], dm = 0.f;
    V::store(lanes, dmax);
    for (int w = 0; w < W; ++w) dm = lanes[w] > dm ? lanes[w] : dm;
    return dm;
  }

  // out rows o0 + w*os = y (times silu(z) with Gate), per step l < lp, transposed back.
  template <bool Gate, bool Stream>
  [[gnu::noinline]] static void finish(Rows zr, int64_t lp, const float* y, float* o0, int64_t os) {
    for (int64_t l = 0; l < lp; l += W) {
      T o[W], z[W];
      if (Gate) tile(zr, l, z);
      for (int i = 0; i < W; ++i) {
        o[i] = V::load(y + (l + i) * W);
        if (Gate) o[i] = V::mul(o[i], vsilu<V>(z[i]));
      }
      V::transpose(o);
      for (int w = 0; w < W; ++w)
        if (Stream) V::stream(o0 + w * os + l, o[w]);
        else V::store(o0 + w * os + l, o[w]);
    }
  }

  // One block of W channels starting at c0 (nw valid), steps [l0, l0+lc) of sequence sq.
  static void block(const SelectiveScanParams& p, const Shape& s, Scratch& S, const SsmSequence& sq, int64_t k,
                    int64_t c0, int64_t nw, int64_t l0, int64_t lc, const Ahead& next) {
    const int64_t pos = sq.start + l0, lp = round_up(lc);
    auto base = [&](const TensorView& t) { return sq.batch * t.stride[0] + c0 * t.stride[1] + pos; };
    const Rows ur = rows(p.u, base(p.u), p.u.stride[1], nw, lc, S.tmp.data());
    const Rows dr = rows(p.delta, base(p.delta), p.delta.stride[1], nw, lc, S.tmp.data() + W * pitch(lc));
    const T bias = V::load(&S.bias[k * W]), D = V::load(&S.D[k * W]);
    const float dm = (p.softplus ? prepare<true> : prepare<false>)(ur, dr, lp, bias, D, S.dt.data(), S.dtu.data(),
                                                                   S.y.data(), next);
    const bool small = dm * S.amax[k] < 128.f;  // false for inf

    const int64_t Np = s.Np;
    float* st = &S.state[k * Np * W];
    const float* A2 = &S.A2[k * Np * W];
    for (int64_t n0 = 0; n0 < Np;) {
      const int np = Np - n0 >= P ? P : 4;
      const PassFn f = np == P ? pick<P>(p.B_varying, p.C_varying, small) : pick<4>(p.B_varying, p.C_varying, small);
      const float* Bs = p.B_varying ? &S.Bt[n0] : &S.Bc[(k * Np + n0) * W];
      const float* Cs = p.C_varying ? &S.Ct[n0] : &S.Cc[(k * Np + n0) * W];
      f(lc, S.dt.data(), S.dtu.data(), A2 + n0 * W, Bs, Cs, Np, st + n0 * W, S.y.data());
      n0 += np;
    }

    // out = y * silu(z), transposed back to rows: in place (streamed when asked), or
    // through tmp when the rows need conversion or are not aligned for streaming stores
    // (stream_floats then streams all but their ends).
    const bool gate = p.z.data != nullptr;
    const Rows zr = gate ? rows(p.z, base(p.z), p.z.stride[1], nw, lc, S.tmp.data()) : Rows{};
    float* const out = p.out.dtype == DType::F32 ? p.out.ptr<float>() + base(p.out) : nullptr;
    const bool aligned = reinterpret_cast<uintptr_t>(out) % sizeof(T) == 0 && p.out.stride[1] * 4 % int64_t(sizeof(T)) == 0;
    const bool direct = in_place(p.out, nw, lc) && (!s.stream || aligned);
    float* const o0 = direct ? out : S.tmp.data() + W * pitch(lc);
    const int64_t os = direct ? p.out.stride[1] : pitch(lc);
    const bool stream = direct && s.stream;
    (gate ? (stream ? finish<true, true> : finish<true, false>) : (stream ? finish<false, true> : finish<false, false>))(
        zr, lp, S.y.data(), o0, os);
    if (direct) return;
    for (int64_t w = 0; w < nw; ++w) {
      const int64_t at = sq.batch * p.out.stride[0] + (c0 + w) * p.out.stride[1] + pos;
      if (s.stream) stream_floats<V>(o0 + w * os, p.out.ptr<float>() + at, lc);
      else write_row<V>(p.out, at, lc, o0 + w * os);
    }
  }

  // One varying B or C slice [N][lc] -> dst [lc][Np] (padding columns stay 0).
  static void transpose_bc(const TensorView& t, int64_t batch, int64_t g, int64_t pos, int64_t lc, const Shape& s,
                           float* tmp, float* dst) {
    const int64_t base = batch * t.stride[0] + g * t.stride[1] + pos;
    for (int64_t n = 0; n < s.N; ++n) read_row<V>(t, base + n * t.stride[2], lc, tmp + n * pitch(lc));
    transpose(tmp, pitch(lc), dst, s.Np, lc, s.N);
  }

  // Blocks kb0 .. kb0+nb-1 of group g in sequence sq, walked chunk by chunk so the
  // B/C copies of a chunk serve every block.
  static void run_group(const SelectiveScanParams& p, const Shape& s, Scratch& S, const SsmSequence& sq, int64_t g,
                        int64_t kb0, int64_t nb) {
    const int64_t Np = s.Np, N = s.N;
    S.state.reset(nb * Np * W);
    S.A2.reset(nb * Np * W);
    S.D.reset(nb * W);
    S.bias.reset(nb * W);
    S.amax.reset(nb);
    if (!p.B_varying) S.Bc.reset(nb * Np * W);
    if (!p.C_varying) S.Cc.reset(nb * Np * W);
    for (int64_t k = 0; k < nb; ++k) {
      const int64_t c0 = g * s.dpg + (kb0 + k) * W, nw = imin(W, (g + 1) * s.dpg - c0);
      for (int64_t w = 0; w < nw; ++w) {
        const int64_t c = c0 + w;
        if (p.D.data) S.D[k * W + w] = p.D.ptr<float>()[c * p.D.stride[0]];
        if (p.delta_bias.data) S.bias[k * W + w] = p.delta_bias.ptr<float>()[c * p.delta_bias.stride[0]];
        for (int64_t n = 0; n < N; ++n) {
          const int64_t at = (k * Np + n) * W + w;
          S.A2[at] = p.A.ptr<float>()[c * p.A.stride[0] + n] * kLog2eF;
          const float a = S.A2[at] < 0.f ? -S.A2[at] : S.A2[at];
          if (a > S.amax[k]) S.amax[k] = a;
          if (p.initial_state.data)
            S.state[at] = p.initial_state.ptr<float>()[sq.slot * p.initial_state.stride[0] +
                                                       c * p.initial_state.stride[1] + n];
          if (!p.B_varying) S.Bc[at] = read_elem(p.B, c * p.B.stride[0] + n);
          if (!p.C_varying) S.Cc[at] = read_elem(p.C, c * p.C.stride[0] + n);
        }
      }
    }
    for (int64_t l0 = 0; l0 < sq.len; l0 += s.Lc) {
      const int64_t lc = imin(s.Lc, sq.len - l0);
      if (p.B_varying) transpose_bc(p.B, sq.batch, g, sq.start + l0, lc, s, S.tmp.data(), S.Bt.data());
      if (p.C_varying) transpose_bc(p.C, sq.batch, g, sq.start + l0, lc, s, S.tmp.data(), S.Ct.data());
      for (int64_t k = 0; k < nb; ++k) {
        const int64_t c0 = g * s.dpg + (kb0 + k) * W, nw = imin(W, (g + 1) * s.dpg - c0);
        const Ahead next =
            k + 1 < nb ? ahead(p, s, sq, c0 + W, imin(W, (g + 1) * s.dpg - c0 - W), sq.start + l0, lc)
            : l0 + s.Lc < sq.len ? ahead(p, s, sq, g * s.dpg + kb0 * W, imin(W, (g + 1) * s.dpg - g * s.dpg - kb0 * W),
                                         sq.start + l0 + s.Lc, imin(s.Lc, sq.len - l0 - s.Lc))
                                 : Ahead{};
        block(p, s, S, sq, k, c0, nw, l0, lc, next);
      }
    }
    if (!p.last_state.data) return;
    for (int64_t k = 0; k < nb; ++k) {
      const int64_t c0 = g * s.dpg + (kb0 + k) * W, nw = imin(W, (g + 1) * s.dpg - c0);
      for (int64_t w = 0; w < nw; ++w)
        for (int64_t n = 0; n < N; ++n)
          p.last_state.ptr<float>()[sq.slot * p.last_state.stride[0] + (c0 + w) * p.last_state.stride[1] + n] =
              S.state[(k * Np + n) * W + w];
    }
  }

  // Share t of n: a contiguous range of (sequence, block) items, in runs of one group.
  static void run(const SelectiveScanParams& p, int t, int n) {
    const Shape s = shape(p);
    const int64_t i0 = s.items * t / n, i1 = s.items * (t + 1) / n;
    if (i0 >= i1) return;
    Scratch S;
    for (Buf* v : {&S.dt, &S.dtu, &S.y}) v->reset(round_up(s.Lc) * W);
    S.tmp.reset(pitch(s.Lc) * (s.Np > 2 * W ? s.Np : 2 * W));
    if (p.B_varying) S.Bt.reset(s.Lc * s.Np);
    if (p.C_varying) S.Ct.reset(s.Lc * s.Np);
    for (int64_t i = i0; i < i1;) {
      check_cancelled();
      const int64_t seq = i / s.nblk, g = (i % s.nblk) / s.bpg;
      int64_t j = i + 1;
      while (j < i1 && j / s.nblk == seq && (j % s.nblk) / s.bpg == g) ++j;
      run_group(p, s, S, p.seqs[size_t(seq)], g, (i % s.nblk) % s.bpg, j - i);
      i = j;
    }
    if (s.stream) V::stream_fence();
  }
};

// The decode step, vectorised over the N states of a channel (contiguous in state).
// dt, the gate and D are applied with vectors along the channel row.
template <class V>
struct StateUpdate {
  using T = typename V::T;
  static constexpr int W = V::W;
  static constexpr int64_t kSpan = 256;  // channels per work item

  static void run(const StateUpdateParams& p, int t, int n) {
    const int64_t spans = (p.dim + kSpan - 1) / kSpan, items = p.batch * spans;
    const int64_t i0 = items * t / n, i1 = items * (t + 1) / n;
    if (i0 >= i1) return;
    const int64_t N = p.dstate, G = p.groups, dpg = p.dim / G;
    Buf dt(kSpan), x(kSpan), z(kSpan), y(kSpan), A2(kSpan * N), Bf(G * N), Cf(G * N);
    int64_t a2_span = -1;  // the span A2 holds
    // Items run span-major, so consecutive rows reuse A2 of their channels.
    for (int64_t it = i0; it < i1; ++it) {
      const int64_t b = it % p.batch, span = it / p.batch, c0 = span * kSpan, cnt = imin(kSpan, p.dim - c0);
      const int64_t slot = p.slots[size_t(b)];
      if (slot < 0) {
        fill(y.data(), cnt, 0.f);
        write_row<V>(p.out, b * p.out.stride[0] + c0, cnt, y.data());
        continue;
      }
      read_row<V>(p.x, b * p.x.stride[0] + c0, cnt, x.data());
      read_row<V>(p.dt, b * p.dt.stride[0] + c0, cnt, dt.data());
      if (p.dt_bias.data)
        for (int64_t c = 0; c < cnt; ++c) dt[c] += p.dt_bias.ptr<float>()[c0 + c];
      if (p.softplus) vapply<V>(dt.data(), cnt, [](T v) { return vsoftplus<V>(v); });
      if (a2_span != span)
        for (int64_t c = 0; c < cnt; ++c)
          for (int64_t k = 0; k < N; ++k) A2[c * N + k] = p.A.ptr<float>()[(c0 + c) * p.A.stride[0] + k] * kLog2eF;
      a2_span = span;
      const int64_t g0 = c0 / dpg, g1 = (c0 + cnt - 1) / dpg;
      for (int64_t g = g0; g <= g1; ++g) {
        read_row<V>(p.B, b * p.B.stride[0] + g * p.B.stride[1], N, &Bf[g * N]);
        read_row<V>(p.C, b * p.C.stride[0] + g * p.C.stride[1], N, &Cf[g * N]);
      }
      // The next item's state rows are asked for one channel at a time while this item
      // computes: the hardware prefetchers restart at each jump between state slots.
      const float* next = nullptr;
      int64_t ncnt = 0;
      if (it + 1 < i1 && p.slots[size_t((it + 1) % p.batch)] >= 0) {
        const int64_t nc0 = (it + 1) / p.batch * kSpan;
        next = p.state.ptr<float>() + p.slots[size_t((it + 1) % p.batch)] * p.state.stride[0] + nc0 * p.state.stride[1];
        ncnt = imin(kSpan, p.dim - nc0);
      }
      int64_t g = g0, gend = (g0 + 1) * dpg;  // channel c0 + c is in group g until gend
      for (int64_t c = 0; c < cnt; ++c) {
        if (c < ncnt)
          for (int64_t o = 0; o < N; o += 16) __builtin_prefetch(next + c * p.state.stride[1] + o, 1, 3);
        if (c0 + c == gend) ++g, gend += dpg;
        const float* Bp = &Bf[g * N];
        const float* Cp = &Cf[g * N];
        const float* a = &A2[c * N];
        float* st = p.state.ptr<float>() + slot * p.state.stride[0] + (c0 + c) * p.state.stride[1];
        const T d = V::set1(dt[c]), dx = V::set1(dt[c] * x[c]);
        T acc = V::zero();
        int64_t k = 0;
        for (; k + W <= N; k += W) {
          const T s = V::fmadd(V::exp2_mul(d, V::load(a + k)), V::load(st + k), V::mul(dx, V::load(Bp + k)));
          V::store(st + k, s);
          acc = V::fmadd(s, V::load(Cp + k), acc);
        }
        if (k < N) {
          const int r = int(N - k);
          const T s = V::fmadd(V::exp2_mul(d, V::load_n(a + k, r)), V::load_n(st + k, r),
                               V::mul(dx, V::load_n(Bp + k, r)));
          V::store_n(st + k, s, r);
          acc = V::fmadd(s, V::load_n(Cp + k, r), acc);
        }
        y[c] = V::reduce_add(acc);
      }
      if (p.D.data)
        for (int64_t c = 0; c < cnt; ++c) y[c] += p.D.ptr<float>()[c0 + c] * x[c];
      if (p.z.data) {
        read_row<V>(p.z, b * p.z.stride[0] + c0, cnt, z.data());
        vapply<V>(z.data(), cnt, [](T v) { return vsilu<V>(v); });
        for (int64_t c = 0; c < cnt; ++c) y[c] *= z[c];
      }
      write_row<V>(p.out, b * p.out.stride[0] + c0, cnt, y.data());
    }
  }
};

}  // namespace
}  // namespace subq::cpu
