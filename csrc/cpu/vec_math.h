// Element functions built on a vector type V (vec_scalar.h, vec_avx2.h, vec_avx512.h).
#pragma once
#include "../core/log2.h"

namespace subq::cpu {

template <class V> inline typename V::T vexp(typename V::T x) { return V::exp2_mul(x, V::set1(kLog2eF)); }

// log1p(v) for v in [0, 1] as 2*atanh(s), s = v/(2+v) <= 1/3: eight odd terms leave
// a truncation below 2e-9 relative.
template <class V> inline typename V::T vlog1p_unit(typename V::T v) {
  using T = typename V::T;
  const T den = V::add(V::set1(2.f), v), r = V::rcp(den);
  T s = V::mul(v, r);
  s = V::fmadd(V::fnmadd(s, den, v), r, s);  // one correction: as accurate as v / den
  const T s2 = V::mul(s, s);
  T p = V::set1(1.f / 15);
  p = V::fmadd(p, s2, V::set1(1.f / 13));
  p = V::fmadd(p, s2, V::set1(1.f / 11));
  p = V::fmadd(p, s2, V::set1(1.f / 9));
  p = V::fmadd(p, s2, V::set1(1.f / 7));
  p = V::fmadd(p, s2, V::set1(1.f / 5));
  p = V::fmadd(p, s2, V::set1(1.f / 3));
  p = V::fmadd(p, s2, V::set1(1.f));
  return V::mul(V::add(s, s), p);
}

// Mamba's softplus: x <= 20 ? log1p(exp(x)) : x, computed as max(x,0) + log1p(exp(-|x|))
// so that exp never overflows.
template <class V> inline typename V::T vsoftplus(typename V::T x) {
  using T = typename V::T;
  const T e = vexp<V>(V::sub(V::zero(), V::abs(x)));
  const T r = V::add(V::max(x, V::zero()), vlog1p_unit<V>(e));
  return V::select_gt(x, V::set1(20.f), x, r);
}

// z * sigmoid(z) with e = exp(-|z|) in [0, 1], so the reciprocal is of a value in
// [1, 2]: sigmoid is 1/(1+e) for z > 0, e/(1+e) otherwise (very negative z gives -0).
template <class V> inline typename V::T vsilu(typename V::T z) {
  using T = typename V::T;
  const T e = vexp<V>(V::sub(V::zero(), V::abs(z)));
  const T den = V::add(V::set1(1.f), e), r = V::rcp(den), num = V::select_gt(z, V::zero(), V::set1(1.f), e);
  T q = V::mul(num, r);
  q = V::fmadd(V::fnmadd(q, den, num), r, q);  // one correction: as accurate as num / den
  return V::mul(z, q);
}

// In-place over n floats, whole vectors plus a masked tail.
template <class V, class F> inline void vapply(float* p, int64_t n, F f) {
  int64_t i = 0;
  for (; i + V::W <= n; i += V::W) V::store(p + i, f(V::load(p + i)));
  if (i < n) V::store_n(p + i, f(V::load_n(p + i, int(n - i))), int(n - i));
}

}  // namespace subq::cpu
