// Merge of two attention states (core/merge_params.h), one row at a time in fp32.
#include "merge.h"

#include <cmath>
#include <vector>

#include "../core/half.h"
#include "../core/thread_pool.h"
#include "online_softmax.h"
#include "rows.h"
#include "vec_scalar.h"

namespace subq::cpu {

namespace {

// z = c1 x + c2 y, where a null input is an empty state that contributes nothing
// (not even its NaNs). Branch-free inner loops, so they vectorise.
void combine(float c1, const float* x, float c2, const float* y, float* z, int64_t d) {
  if (x && y) for (int64_t i = 0; i < d; ++i) z[i] = c1 * x[i] + c2 * y[i];
  else if (x) for (int64_t i = 0; i < d; ++i) z[i] = c1 * x[i];
  else for (int64_t i = 0; i < d; ++i) z[i] = c2 * y[i];
}

int64_t offset(const TensorView& t, int64_t b, int64_t h, int64_t n) {
  return b * t.stride[0] + h * t.stride[1] + n * t.stride[2];
}

}  // namespace

void merge_states(const MergeParams& p) {
  const int64_t rows = p.B * p.H * p.N, D = p.D;
  ThreadPool::instance().run([&](int t, int nt) {
    std::vector<float> a(D), b(D);
    for (int64_t r = rows * t / nt; r < rows * (t + 1) / nt; ++r) {
      const int64_t bi = r / (p.H * p.N), h = r / p.N % p.H, n = r % p.N;
      const float l1 = p.lse1.ptr<float>()[offset(p.lse1, bi, h, n)];
      const float l2 = p.lse2.ptr<float>()[offset(p.lse2, bi, h, n)];
      LseMerge merged;
      merged.see(l1);
      merged.see(l2);
      float* lse = p.lse.ptr<float>() + offset(p.lse, bi, h, n);
      if (merged.empty()) {
        std::fill(a.begin(), a.end(), 0.f);
        write_row<VecScalar>(p.out, offset(p.out, bi, h, n), D, a.data());
        *lse = -INFINITY;
        continue;
      }
      const float w1 = merged.absorb(l1), w2 = merged.absorb(l2);
      // An empty state (weight 0) is skipped so its output values never matter.
      const float c1 = w1 / merged.sum, c2 = w2 / merged.sum;
      const int64_t oo = offset(p.out, bi, h, n), o1 = offset(p.o1, bi, h, n), o2 = offset(p.o2, bi, h, n);
      if (p.out.dtype == DType::F32) {  // straight from the inputs (out may alias o1)
        combine(c1, w1 != 0.f ? p.o1.ptr<float>() + o1 : nullptr, c2, w2 != 0.f ? p.o2.ptr<float>() + o2 : nullptr,
                p.out.ptr<float>() + oo, D);
      } else {
        read_row<VecScalar>(p.o1, o1, D, a.data());
        read_row<VecScalar>(p.o2, o2, D, b.data());
        combine(c1, w1 != 0.f ? a.data() : nullptr, c2, w2 != 0.f ? b.data() : nullptr, a.data(), D);
        write_row<VecScalar>(p.out, oo, D, a.data());
      }
      *lse = merged.lse();
    }
  });
}

}  // namespace subq::cpu
