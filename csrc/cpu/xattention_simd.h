// The XAttention phases (xattention_kernels.h) written once over a vector type V (the
// shared vec_*.h types), for the ISA files to instantiate. Internal linkage: the copies
// compiled with different ISA flags never meet at link time. Each lane goes through the
// same operations in the same order whatever W is, so every width gives the same bits.
#pragma once
#include <cstdint>

#include "attention_kernels.h"
#include "xattention_kernels.h"

namespace subq::cpu {
namespace {

template <class V>
void softmax_block_sums(const float* s, int64_t nk, int64_t tq, int64_t R, float* bs) {
  using T = typename V::T;
  const T one = V::set1(1.f);
  for (int64_t c = 0; c < tq; c += V::W) {
    T m = V::set1(kMaskedScore);
    for (int64_t j = 0; j < nk; ++j) m = V::max(m, V::load(s + j * tq + c));
    // Masked logits sit far below m, so their 2^(s - m) is exactly 0.
    T l = V::zero();
    for (int64_t j0 = 0, kb = 0; j0 < nk; j0 += R, ++kb) {
      const int64_t j1 = j0 + R < nk ? j0 + R : nk;
      T acc = V::zero();
      for (int64_t j = j0; j < j1; ++j) acc = V::add(acc, V::exp2_mul(V::sub(V::load(s + j * tq + c), m), one));
      V::store(bs + kb * tq + c, acc);
      l = V::add(l, acc);
    }
    for (int64_t kb = 0; kb * R < nk; ++kb) V::store(bs + kb * tq + c, V::div(V::load(bs + kb * tq + c), l));
  }
}

template <class V>
constexpr XAttentionKernels xattention_kernels_for() {
  return XAttentionKernels{softmax_block_sums<V>};
}

}  // namespace
}  // namespace subq::cpu
