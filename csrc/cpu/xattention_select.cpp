// XAttention's block selection on the CPU: the rule of core/xattention_select.h with its
// sequential fixed-order mass, so the mask is the CUDA kernel's bit for bit. Each row's
// ranks and scores are staged once, and the search bisects over its candidate ranks in
// sorted order (order statistics found as the bisection asks for them): log2(n) masses,
// where the kernel, which sorts nothing, takes 31. Rows are split over the pool in contiguous runs.
#include <algorithm>
#include <iterator>
#include <vector>

#include "../core/thread_pool.h"
#include "xattention.h"

namespace subq::cpu {

void xattention_select(const XSelectParams& p) {
  const int64_t rows = p.B * p.H * p.nqb;
  ThreadPool::instance().run([&](int t, int n) {
    std::vector<uint32_t> ranks(size_t(p.nkb)), keys;
    std::vector<int64_t> placed;  // positions of keys already in sorted place, ascending
    std::vector<double> x(size_t(p.nkb));
    for (int64_t r = rows * t / n; r < rows * (t + 1) / n; ++r) {
      const int64_t qb = r % p.nqb, h = r / p.nqb % p.H, b = r / (p.nqb * p.H);
      const float* v = p.scores.ptr<float>() + b * p.scores.stride[0] + h * p.scores.stride[1] + qb * p.scores.stride[2];
      const xsel::Row row = xsel::row_of(qb, p.nqb, p.nkb, p.causal, p.keep_sink, p.keep_recent);
      keys.clear();
      for (int64_t kb = 0; kb < row.end; ++kb) {
        ranks[size_t(kb)] = xsel::rank(v, kb, row);
        x[size_t(kb)] = v[kb];
        if (!row.forced(kb) && v[kb] > 0.f) keys.push_back(ranks[size_t(kb)]);
      }
      // key_at(i): the i-th smallest candidate rank, by nth_element between the nearest
      // ranks already placed, so the bisection's queries cost O(n) together, not a sort.
      placed.assign({-1, int64_t(keys.size())});
      auto key_at = [&](int64_t i) {
        const auto hi = std::upper_bound(placed.begin(), placed.end(), i);
        if (hi[-1] != i) {
          std::nth_element(keys.begin() + (hi[-1] + 1), keys.begin() + i, keys.begin() + *hi);
          placed.insert(hi, i);
        }
        return keys[size_t(i)];
      };
      const uint32_t* rk = ranks.data();
      const double* xs = x.data();
      auto mass_of = [&](xsel::Cut c) {
        return xsel::mass(row.end, [&](int64_t kb) { return xsel::member(rk[kb], kb, c) ? xs[kb] : 0.0; });
      };
      auto tie_span = [&](uint32_t tau, int64_t& first, int64_t& last) {
        first = std::find(rk, rk + row.end, tau) - rk;
        last = row.end - 1 - (std::find(std::make_reverse_iterator(rk + row.end), std::make_reverse_iterator(rk), tau) -
                              std::make_reverse_iterator(rk + row.end));
      };
      const xsel::Cut c = xsel::select_row(p.thresholds[h], mass_of, int64_t(keys.size()), key_at, tie_span);
      uint8_t* m = p.mask.ptr<uint8_t>() + r * p.nkb;
      int32_t count = 0;
      for (int64_t kb = 0; kb < p.nkb; ++kb) {
        m[kb] = xsel::kept(v, kb, row, c);
        count += m[kb];
      }
      p.counts.ptr<int32_t>()[r] = count;
    }
  });
}

}  // namespace subq::cpu
