// XAttention block scoring on the CPU: the driver. The antidiagonal sums are one matrix
// product over reduced rows of S*D values:
//   reduced key j   = K[j*S] | K[j*S + 1] | ... | K[j*S + S-1]        (concatenated)
//   reduced query i = Q[i*S + S-1] | Q[i*S + S-2] | ... | Q[i*S]      (reversed)
// so A[i][j] = (reduced query i) . (reduced key j), computed by the attention kernels'
// Q.K^T phase on tiles of reduced queries (in the vector lanes) against every visible
// reduced key, followed by a per-lane softmax and block sums (xattention_kernels.h).
// Contiguous fp32 K already is its reduced rows in memory and is read in place.
//
// Work items are (batch, query head, chunk of query blocks); an item owns its rows of
// the output. Within a query block, rows are added in ascending order whatever the tile
// and chunk boundaries are, so neither the thread count, the chunk nor the vector width
// changes a bit of the result.
#include "xattention.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "../core/cpu_features.h"
#include "../core/thread_pool.h"
#include "attention_kernels.h"
#include "rows.h"
#include "vec_scalar.h"
#include "vector_width.h"
#include "xattention_kernels.h"
#include "xattention_simd.h"

namespace subq::cpu {

const XAttentionKernels& xattention_kernels_scalar() {
  static constexpr XAttentionKernels k = xattention_kernels_for<VecScalar>();
  return k;
}

namespace {

constexpr double kLog2e = 1.4426950408889634;
// Default work item: about this many query rows, rounded to whole tiles and blocks.
constexpr int64_t kChunkTarget = 4096;

struct Kernels {
  const AttentionKernels& mm;
  const XAttentionKernels& x;
};

Kernels pick_kernels() {
  switch (simd_level()) {
    case SimdLevel::AVX512:
      return use_zmm() ? Kernels{attention_kernels_avx512_zmm(), xattention_kernels_avx512_zmm()}
                       : Kernels{attention_kernels_avx512_ymm(), xattention_kernels_avx512_ymm()};
    case SimdLevel::AVX2: return {attention_kernels_avx2(), xattention_kernels_avx2()};
    default: return {attention_kernels_scalar(), xattention_kernels_scalar()};
  }
}

int64_t gcd(int64_t a, int64_t b) { return b ? gcd(b, a % b) : a; }

// Row stride of staged reduced keys: a whole, odd number of cache lines, so the rows a
// micro-kernel reads together do not pile into a few L1 sets.
int64_t padded_stride(int64_t n) {
  const int64_t lines = (n + 15) / 16;
  return (lines % 2 ? lines : lines + 1) * 16;
}

// Reduced keys of one (batch, kv head): read in place (contiguous fp32 rows, all but a
// partial last reduced row) or staged as fp32, filled as far as a tile needs.
class ReducedKeys {
 public:
  ReducedKeys(const XAttentionParams& p)
      : p_(p), inner_(p.stride * p.D), n_(p.reduced_k()),
        in_place_(p.k.dtype == DType::F32 && p.k.stride[2] == p.D),
        ks_(in_place_ ? inner_ : padded_stride(inner_)), rows_(in_place_ ? inner_ : n_ * ks_) {}

  void select(int64_t b, int64_t hk) {
    if (b == b_ && hk == hk_) return;
    b_ = b, hk_ = hk, filled_ = 0;
    base_ = b * p_.k.stride[0] + hk * p_.k.stride[1];
    // In place, only the partial last reduced row (past Nk / S) is staged.
    if (in_place_ && n_ > p_.Nk / p_.stride) stage(n_ - 1, rows_.data());
  }

  // Rows [j0, j1) are at rows(j0) + (j - j0) * stride(), all in one piece: in place,
  // the caller splits at full_rows().
  int64_t stride() const { return ks_; }
  int64_t full_rows() const { return in_place_ ? p_.Nk / p_.stride : n_; }
  const float* rows(int64_t j0, int64_t j1) {
    if (in_place_) return j0 < full_rows() ? p_.k.ptr<float>() + base_ + j0 * inner_ : rows_.data();
    for (; filled_ < j1; ++filled_) stage(filled_, rows_.data() + filled_ * ks_);
    return rows_.data() + j0 * ks_;
  }

 private:
  // Reduced row j in fp32: key rows j*S .. j*S + S-1 side by side, zeros past Nk.
  void stage(int64_t j, float* dst) {
    for (int64_t t = 0; t < p_.stride; ++t) {
      const int64_t row = j * p_.stride + t;
      if (row < p_.Nk) read_row<VecScalar>(p_.k, base_ + row * p_.k.stride[2], p_.D, dst + t * p_.D);
      else fill(dst + t * p_.D, p_.D, 0.f);
    }
  }

  const XAttentionParams& p_;
  const int64_t inner_, n_;
  const bool in_place_;
  const int64_t ks_;
  Buf rows_;
  int64_t b_ = -1, hk_ = -1, base_ = 0, filled_ = 0;
};

class Worker {
 public:
  Worker(const XAttentionParams& p, const Kernels& kern)
      : p_(p), kern_(kern), tq_(kern.mm.tile_q), S_(p.stride), R_(p.rows_per_block()), inner_(S_ * p.D),
        keys_(p), qrows_(tq_ * inner_), qt_(tq_ * inner_), s_(std::max<int64_t>(p.reduced_k(), 1) * tq_),
        bs_((p.reduced_k() + R_ - 1) / R_ * tq_ + tq_) {}

  // Query blocks [qb0, qb1) of query head h in batch b.
  void run(int64_t b, int64_t h, int64_t qb0, int64_t qb1) {
    const TensorView& o = p_.scores;
    for (int64_t qb = qb0; qb < qb1; ++qb) fill(o.ptr<float>() + b * o.stride[0] + h * o.stride[1] + qb * o.stride[2], o.shape[3], 0.f);
    keys_.select(b, h / (p_.Hq / p_.Hkv));
    const int64_t i1 = std::min(qb1 * R_, p_.reduced_q());
    for (int64_t i0 = qb0 * R_; i0 < i1; i0 += tq_) tile(b, h, i0, std::min(tq_, i1 - i0));
  }

 private:
  // Reduced query rows [i0, i0 + lanes).
  void tile(int64_t b, int64_t h, int64_t i0, int64_t lanes) {
    const int64_t nk = p_.key_end(i0 + lanes - 1);  // the widest row's visible keys
    if (nk <= 0) return;
    load_q(b, h, i0, lanes);
    float* s = s_.data();
    // S^T = K_reduced Q_reduced^T: in place, the staged partial last row separately.
    const int64_t full = std::min(nk, keys_.full_rows());
    if (full > 0) kern_.mm.qk(qt_.data(), inner_, keys_.rows(0, full), keys_.stride(), full, s);
    if (nk > full) kern_.mm.qk(qt_.data(), inner_, keys_.rows(full, nk), keys_.stride(), nk - full, s + full * tq_);
    // Causal: lane r sees keys [0, key_end(i0 + r)) only.
    for (int64_t r = 0; r < lanes; ++r)
      for (int64_t j = std::max<int64_t>(p_.key_end(i0 + r), 0); j < nk; ++j) s[j * tq_ + r] = kMaskedScore;
    float* bs = bs_.data();
    kern_.x.softmax_block_sums(s, nk, tq_, R_, bs);
    const TensorView& o = p_.scores;
    const int64_t nkb = (nk + R_ - 1) / R_;
    for (int64_t r = 0; r < lanes; ++r) {
      if (p_.key_end(i0 + r) <= 0) continue;  // no visible key: the row adds nothing
      float* row = o.ptr<float>() + b * o.stride[0] + h * o.stride[1] + (i0 + r) / R_ * o.stride[2];
      for (int64_t kb = 0; kb < nkb; ++kb) row[kb] += bs[kb * tq_ + r];
    }
  }

  // Q_reduced^T of the tile, scaled so the logits come out in base 2: rows of S*D
  // (query rows reversed within each group of S), then transposed.
  void load_q(int64_t b, int64_t h, int64_t i0, int64_t lanes) {
    const TensorView& q = p_.q;
    const int64_t base = b * q.stride[0] + h * q.stride[1], D = p_.D;
    const double sc = double(p_.scale) / double(S_) * kLog2e;
    for (int64_t r = 0; r < lanes; ++r) {
      float* dst = qrows_.data() + r * inner_;
      for (int64_t t = 0; t < S_; ++t) {
        const int64_t row = (i0 + r) * S_ + (S_ - 1 - t);
        float* piece = dst + t * D;
        if (row >= p_.Nq) {
          fill(piece, D, 0.f);
          continue;
        }
        read_row<VecScalar>(q, base + row * q.stride[2], D, piece);
        for (int64_t x = 0; x < D; ++x) piece[x] = float(piece[x] * sc);
      }
    }
    if (lanes < tq_) fill(qt_.data(), inner_ * tq_, 0.f);
    kern_.mm.transpose(qrows_.data(), inner_, lanes, inner_, qt_.data(), tq_);
  }

  const XAttentionParams& p_;
  const Kernels& kern_;
  const int64_t tq_, S_, R_, inner_;
  ReducedKeys keys_;
  Buf qrows_, qt_, s_, bs_;
};

}  // namespace

void xattention_scores(const XAttentionParams& p) {
  const Kernels kern = pick_kernels();
  const int64_t tq = kern.mm.tile_q, R = p.rows_per_block(), nqb = p.nqb();
  // Chunks in query blocks: the caller's, or whole tiles and blocks near kChunkTarget rows.
  int64_t cb = p.chunk / p.block;
  if (cb <= 0) {
    const int64_t unit = tq / gcd(tq, R);  // blocks per whole number of tiles
    cb = unit * std::max<int64_t>(1, kChunkTarget / (unit * p.block));
  }
  const int64_t chunks = (nqb + cb - 1) / cb, heads = p.B * p.Hq;
  // Static split by cost (reduced rows x visible keys, plus one per item), in (batch,
  // head, chunk) order, so each thread gets a contiguous run and heads stay warm.
  std::vector<int64_t> prefix(size_t(chunks) + 1, 0);
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t i0 = c * cb * R, i1 = std::min((c + 1) * cb * R, p.reduced_q());
    const int64_t keys = i1 > i0 ? std::max<int64_t>(p.key_end(i1 - 1), 0) : 0;
    prefix[size_t(c) + 1] = prefix[size_t(c)] + 1 + (i1 - i0) * keys / 64;
  }
  const int64_t per_head = prefix[size_t(chunks)], total = heads * per_head;
  ThreadPool::instance().run([&](int t, int n) {
    std::unique_ptr<Worker> w;  // only on threads that get items
    for (int64_t it = 0; it < heads * chunks; ++it) {
      const int64_t bh = it / chunks, c = it % chunks;
      // Owner: the thread whose share holds the item's cost midpoint.
      const int64_t mid2 = 2 * (bh * per_head + prefix[size_t(c)]) + (prefix[size_t(c) + 1] - prefix[size_t(c)]);
      if (mid2 * n / (2 * total) != t) continue;
      if (!w) w = std::make_unique<Worker>(p, kern);
      w->run(bh / p.Hq, bh % p.Hq, c * cb, std::min((c + 1) * cb, nqb));
    }
  });
}

}  // namespace subq::cpu
