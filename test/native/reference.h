// fp64 reference attention, written from the definition (ops/attention.h):
//   s_ij = scale * q_i . k_j, softcapped to c * tanh(s / c) when c > 0;
//   key j visible to query i when i + Nk - Nq - left <= j <= i + Nk - Nq + right;
//   o_i = sum_j softmax_j(s_ij) v_j over the visible keys; lse_i = log sum_j exp(s_ij).
// A row with no visible key has o = 0 and lse = -inf.
// Tensors are dense [B, H, N, D] in double.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace subq::test {

struct RefShape {
  int64_t B, Hq, Hkv, Nq, Nk, D, Dv;
  double scale, softcap;
  int64_t left, right;  // -1 = unlimited
};

inline bool ref_visible(const RefShape& s, int64_t i, int64_t j) {
  const int64_t off = s.Nk - s.Nq;
  return (s.left < 0 || j >= i + off - s.left) && (s.right < 0 || j <= i + off + s.right);
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
      for (int64_t i = 0; i < s.Nq; ++i) {
        const double* Q = &q[((b * s.Hq + h) * s.Nq + i) * s.D];
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < s.Nk; ++j) {
          if (!ref_visible(s, i, j)) { sc[j] = -std::numeric_limits<double>::infinity(); continue; }
          double dot = 0;
          for (int64_t d = 0; d < s.D; ++d) dot += Q[d] * K[j * s.D + d];
          double x = round_s(dot) * s.scale;
          if (s.softcap > 0) x = s.softcap * std::tanh(x / s.softcap);
          sc[j] = x;
          mx = std::max(mx, x);
        }
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
