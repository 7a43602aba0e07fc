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
// the output. Scratch per thread: Q^T and the scores against every visible reduced key
// (Nk/S x tile_q floats) of one tile, or of the whole item (chunk/S x Nk/S) when keys
// are staged, and one block of staged keys. Within a query block, rows are added in ascending order whatever the tile
// and chunk boundaries are, so neither the thread count, the chunk nor the vector width
// changes a bit of the result.
#include "xattention.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "../core/cpu_features.h"
#include "../core/log2.h"
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

// Default work item: about this many query rows, rounded to whole tiles and blocks, and
// at most kItemScores floats of scores (reduced rows x reduced keys) per thread when
// staged keys make the item one group.
constexpr int64_t kChunkTarget = 4096;
constexpr int64_t kItemScores = int64_t(4) << 20;

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

// Reduced keys of one (batch, kv head), a block of consecutive rows at a time: read in
// place where K is contiguous fp32 (the block is already its reduced rows in memory),
// else staged as fp32 (fp16/bf16, strided rows, or a block holding the partial last
// reduced row).
class ReducedKeys {
 public:
  explicit ReducedKeys(const XAttentionParams& p, int64_t max_rows)
      : p_(p), inner_(p.stride * p.D), in_place_(p.k.dtype == DType::F32 && p.k.stride[2] == p.D),
        ks_(padded_stride(inner_)), buf_(max_rows * ks_) {}

  void select(int64_t b, int64_t hk) { base_ = b * p_.k.stride[0] + hk * p_.k.stride[1]; }
  // Whether K is read in place (all but a block holding a partial last reduced row).
  bool in_place() const { return in_place_; }

  // Rows [j0, j1), row j at result + (j - j0) * *stride.
  const float* rows(int64_t j0, int64_t j1, int64_t* stride) {
    if (in_place_ && j1 * p_.stride <= p_.Nk) {
      *stride = inner_;
      return p_.k.ptr<float>() + base_ + j0 * inner_;
    }
    for (int64_t j = j0; j < j1; ++j) stage(j, buf_.data() + (j - j0) * ks_);
    *stride = ks_;
    return buf_.data();
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
  const int64_t inner_;
  const bool in_place_;
  const int64_t ks_;
  Buf buf_;
  int64_t base_ = 0;
};

// One work item: the tiles of reduced query rows of a chunk of query blocks, run in
// groups, each tile with its Q^T and its scores S^T against every visible reduced key.
// Keys stream past the group a block at a time. Keys read in place: groups of one tile,
// whose Q^T stays in L2 (the faster order). Staged keys: the whole item is one group, so
// each block is converted once per item instead of once per tile.
class Worker {
 public:
  Worker(const XAttentionParams& p, const Kernels& kern, int64_t max_tiles)
      : p_(p), kern_(kern), tq_(kern.mm.tile_q), S_(p.stride), R_(p.rows_per_block()), inner_(S_ * p.D),
        nkr_(std::max<int64_t>(p.reduced_k(), 1)), key_block_(key_block(inner_)), keys_(p, key_block_),
        group_(keys_.in_place() ? 1 : max_tiles), qrows_(tq_ * inner_), qt_(group_ * inner_ * tq_),
        s_(group_ * nkr_ * tq_), bs_((nkr_ + R_ - 1) / R_ * tq_) {}

  // Query blocks [qb0, qb1) of query head h in batch b.
  void run(int64_t b, int64_t h, int64_t qb0, int64_t qb1) {
    const TensorView& o = p_.scores;
    for (int64_t qb = qb0; qb < qb1; ++qb) fill(o.ptr<float>() + b * o.stride[0] + h * o.stride[1] + qb * o.stride[2], o.shape[3], 0.f);
    keys_.select(b, h / (p_.Hq / p_.Hkv));
    const int64_t first = qb0 * R_, end = std::min(qb1 * R_, p_.reduced_q());
    const int64_t tiles = (end - first + tq_ - 1) / tq_;
    // Tile t: reduced rows [first + t*tq, + lanes(t)), visible keys [0, nk(t)).
    auto lanes = [&](int64_t t) { return std::min(tq_, end - first - t * tq_); };
    auto nk = [&](int64_t t) { return p_.key_end(first + t * tq_ + lanes(t) - 1); };  // the widest row's
    for (int64_t g0 = 0; g0 < tiles; g0 += group_) {
      const int64_t g1 = std::min(g0 + group_, tiles);
      auto qt = [&](int64_t t) { return qt_.data() + (t - g0) * inner_ * tq_; };
      auto s = [&](int64_t t) { return s_.data() + (t - g0) * nkr_ * tq_; };
      int64_t keys = 0;
      for (int64_t t = g0; t < g1; ++t) {
        if (nk(t) <= 0) continue;
        load_q(b, h, first + t * tq_, lanes(t), qt(t));
        keys = std::max(keys, nk(t));
      }
      // S^T = K_reduced Q_reduced^T, key block by key block.
      for (int64_t j0 = 0; j0 < keys; j0 += key_block_) {
        const int64_t j1 = std::min(j0 + key_block_, keys);
        int64_t ks;
        const float* k = keys_.rows(j0, j1, &ks);
        for (int64_t t = g0; t < g1; ++t)
          if (nk(t) > j0) kern_.mm.qk(qt(t), inner_, k, ks, std::min(nk(t), j1) - j0, s(t) + j0 * tq_);
      }
      for (int64_t t = g0; t < g1; ++t)
        if (nk(t) > 0) finish(b, h, first + t * tq_, lanes(t), nk(t), s(t));
    }
  }

 private:
  // Reduced keys per block: a block of K rows of about 256 KiB, a multiple of every
  // micro-tile height (4, 6, 8).
  static int64_t key_block(int64_t inner) { return std::max<int64_t>(24, (int64_t(1) << 16) / inner / 24 * 24); }

  // Rows [i0, i0 + lanes) from their scores s [nk][tq]: causal mask, softmax, block sums,
  // added to the output rows in ascending row order.
  void finish(int64_t b, int64_t h, int64_t i0, int64_t lanes, int64_t nk, float* s) {
    for (int64_t r = 0; r < lanes; ++r)  // lane r sees keys [0, key_end(i0 + r)) only
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

  // Q_reduced^T of rows [i0, i0 + lanes) into qt [S*D][tq], scaled so the logits come
  // out in base 2: rows of S*D (query rows reversed within each group of S), transposed.
  void load_q(int64_t b, int64_t h, int64_t i0, int64_t lanes, float* qt) {
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
    if (lanes < tq_) fill(qt, inner_ * tq_, 0.f);
    kern_.mm.transpose(qrows_.data(), inner_, lanes, inner_, qt, tq_);
  }

  const XAttentionParams& p_;
  const Kernels& kern_;
  const int64_t tq_, S_, R_, inner_, nkr_, key_block_;
  ReducedKeys keys_;
  const int64_t group_;  // tiles run together
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
    const int64_t by_rows = kChunkTarget / (unit * p.block);
    const int64_t by_memory = kItemScores / (std::max<int64_t>(p.reduced_k(), 1) * unit * R);
    cb = unit * std::max<int64_t>(1, std::min(by_rows, by_memory));
  }
  cb = std::min(cb, nqb);
  const int64_t max_tiles = (cb * R + tq - 1) / tq;
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
      if (!w) w = std::make_unique<Worker>(p, kern, max_tiles);
      w->run(bh / p.Hq, bh % p.Hq, c * cb, std::min((c + 1) * cb, nqb));
    }
  });
}

}  // namespace subq::cpu
