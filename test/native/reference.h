// fp64 reference attention, written from the definition (ops/attention.h):
//   s_ij = scale * q_i . k_j, softcapped to c * tanh(s / c) when c > 0;
//   key j visible to query i when i + Nk - Nq - left <= j <= i + Nk - Nq + right;
//   o_i = sum_j softmax_j(s_ij) v_j over the visible keys; lse_i = log sum_j exp(s_ij).
// A row with no visible key has o = 0 and lse = -inf.
// Block-sparse (RefMask): key j is also required to lie in a key block listed for
// query i's block (BlockMask in core/attention_params.h), expanded here from that
// definition row by row.
// Tensors are dense [B, H, N, D] in double.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace subq::test {

// A block mask as plain arrays (dense, row-major). Head modes: 0 Dense (every key
// block), 1 Streaming (sinks [0, sink) and the `local` blocks ending at the
// diagonal block), 2 Masked (the index list).
struct RefMask {
  int64_t block = 0;  // 0: no mask
  int64_t Hm = 1, max_k = 0;
  std::vector<int32_t> indices;  // [B, Hm, nqb, max_k]
  std::vector<int32_t> counts;   // [B, Hm, nqb]
  std::vector<uint8_t> modes;    // [Hq], or empty: every head Masked
  int64_t sink = 0, local = 0;
};

struct RefShape {
  int64_t B, Hq, Hkv, Nq, Nk, D, Dv;
  double scale, softcap;
  int64_t left, right;  // -1 = unlimited
  const RefMask* mask = nullptr;
};

// Which key blocks query block qb of (batch b, query head h) may read.
inline std::vector<bool> ref_key_blocks(const RefShape& s, int64_t b, int64_t h, int64_t qb) {
  const RefMask& m = *s.mask;
  const int64_t nqb = (s.Nq + m.block - 1) / m.block, nkb = (s.Nk + m.block - 1) / m.block;
  const int mode = m.modes.empty() ? 2 : m.modes[h];
  std::vector<bool> on(nkb, mode == 0);
  if (mode == 1) {
    for (int64_t kb = 0; kb < std::min(m.sink, nkb); ++kb) on[kb] = true;
    // The diagonal block holds the key aligned (bottom-right) with the block's last row.
    const int64_t key = std::min((qb + 1) * m.block, s.Nq) - 1 + s.Nk - s.Nq;
    if (key >= 0)
      for (int64_t kb = std::min(key, s.Nk - 1) / m.block, n = 0; kb >= 0 && n < m.local; --kb, ++n) on[kb] = true;
  } else if (mode == 2) {
    const int64_t row = (b * m.Hm + h / (s.Hq / m.Hm)) * nqb + qb;
    for (int64_t n = 0; n < m.counts[row]; ++n) on[m.indices[row * m.max_k + n]] = true;
  }
  return on;
}

inline bool ref_visible(const RefShape& s, int64_t i, int64_t j) {
  const int64_t off = s.Nk - s.Nq;
  return (s.left < 0 || j >= i + off - s.left) && (s.right < 0 || j <= i + off + s.right);
}

// The scores of query row i (Q its row, K the kv head's keys) into sc, -inf where hidden
// (blocks: the row's key blocks under a mask); returns their maximum. round_s as below.
template <class RS>
double ref_scores(const RefShape& s, const double* Q, const double* K, int64_t i, const std::vector<bool>& blocks,
                  double* sc, RS round_s) {
  double mx = -std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < s.Nk; ++j) {
    if (!ref_visible(s, i, j) || (s.mask && !blocks[j / s.mask->block])) {
      sc[j] = -std::numeric_limits<double>::infinity();
      continue;
    }
    double dot = 0;
    for (int64_t d = 0; d < s.D; ++d) dot += Q[d] * K[j * s.D + d];
    double x = round_s(dot) * s.scale;
    if (s.softcap > 0) x = s.softcap * std::tanh(x / s.softcap);
    sc[j] = x;
    mx = std::max(mx, x);
  }
  return mx;
}

// `round_s`, `round_p` and `round_o` model a naive computation in a 16-bit dtype
// (scores, probabilities and outputs rounded to it); identity for the reference.
template <class RS, class RP, class RO>
void attention_naive(const RefShape& s, const std::vector<double>& q, const std::vector<double>& k,
                     const std::vector<double>& v, std::vector<double>& o, std::vector<double>& lse, RS round_s,
                     RP round_p, RO round_o) {
  o.assign(s.B * s.Hq * s.Nq * s.Dv, 0.0);
  lse.assign(s.B * s.Hq * s.Nq, -std::numeric_limits<double>::infinity());
  std::vector<double> sc(s.Nk);
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t h = 0; h < s.Hq; ++h) {
      const int64_t hk = h / (s.Hq / s.Hkv);
      const double* K = &k[(b * s.Hkv + hk) * s.Nk * s.D];
      const double* V = &v[(b * s.Hkv + hk) * s.Nk * s.Dv];
      std::vector<bool> blocks;
      for (int64_t i = 0; i < s.Nq; ++i) {
        if (s.mask && i % s.mask->block == 0) blocks = ref_key_blocks(s, b, h, i / s.mask->block);
        const double* Q = &q[((b * s.Hq + h) * s.Nq + i) * s.D];
        const double mx = ref_scores(s, Q, K, i, blocks, sc.data(), round_s);
        if (mx == -std::numeric_limits<double>::infinity()) continue;
        double sum = 0;
        for (int64_t j = 0; j < s.Nk; ++j) sum += std::exp(sc[j] - mx);
        const int64_t row = (b * s.Hq + h) * s.Nq + i;
        lse[row] = mx + std::log(sum);
        for (int64_t d = 0; d < s.Dv; ++d) {
          double acc = 0;
          for (int64_t j = 0; j < s.Nk; ++j)
            if (sc[j] != -std::numeric_limits<double>::infinity()) acc += round_p(std::exp(sc[j] - mx) / sum) * V[j * s.Dv + d];
          o[row * s.Dv + d] = round_o(acc);
        }
      }
    }
}

inline void attention_reference(const RefShape& s, const std::vector<double>& q, const std::vector<double>& k,
                                 const std::vector<double>& v, std::vector<double>& o, std::vector<double>& lse) {
  auto id = [](double x) { return x; };
  attention_naive(s, q, k, v, o, lse, id, id, id);
}

}  // namespace subq::test

namespace subq::test {

// pv 'int8' (docs/semantics.md) in fp64: V' integer values vi [B, Hkv, Nk, Dv] with a scale
// vs [B, Hkv, Nk] per key; per query row and block of `pblock` keys t_j = P_j * vs_j,
// P'_j = round-half-away(255 t_j / max t) (0 where the max is 0), and
// o_i = sum over blocks of (max t / 255) sum_j P'_j V'_j, over the unquantized row sum.
inline void attention_pv_int8_reference(const RefShape& s, const std::vector<double>& q, const std::vector<double>& k,
                                        const std::vector<int>& vi, const std::vector<double>& vs, int64_t pblock,
                                        std::vector<double>& o) {
  o.assign(s.B * s.Hq * s.Nq * s.Dv, 0.0);
  std::vector<double> sc(s.Nk), pq(s.Nk);
  auto id = [](double x) { return x; };
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t h = 0; h < s.Hq; ++h) {
      const int64_t hk = h / (s.Hq / s.Hkv), kv = (b * s.Hkv + hk) * s.Nk;
      std::vector<bool> blocks;
      for (int64_t i = 0; i < s.Nq; ++i) {
        if (s.mask && i % s.mask->block == 0) blocks = ref_key_blocks(s, b, h, i / s.mask->block);
        const double mx = ref_scores(s, &q[((b * s.Hq + h) * s.Nq + i) * s.D], &k[kv * s.D], i, blocks, sc.data(), id);
        if (mx == -std::numeric_limits<double>::infinity()) continue;
        double sum = 0;
        for (int64_t j = 0; j < s.Nk; ++j) sum += std::exp(sc[j] - mx);
        double* out = &o[((b * s.Hq + h) * s.Nq + i) * s.Dv];
        for (int64_t j0 = 0; j0 < s.Nk; j0 += pblock) {
          const int64_t j1 = std::min(s.Nk, j0 + pblock);
          double m = 0;
          for (int64_t j = j0; j < j1; ++j) m = std::max(m, std::exp(sc[j] - mx) * vs[kv + j]);
          for (int64_t j = j0; j < j1; ++j) pq[j] = m > 0 ? std::floor(255 * std::exp(sc[j] - mx) * vs[kv + j] / m + 0.5) : 0;
          for (int64_t d = 0; d < s.Dv; ++d) {
            double acc = 0;
            for (int64_t j = j0; j < j1; ++j) acc += pq[j] * vi[(kv + j) * s.Dv + d];
            out[d] += m / 255 * acc / sum;
          }
        }
      }
    }
}

}  // namespace subq::test
