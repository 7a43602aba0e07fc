#include "sparse.h"

#include <algorithm>
#include <string>
#include <vector>

#include "check.h"
#include "host_elements.h"

namespace subq {

namespace {

std::string at(int64_t b, int64_t h, int64_t qb) {
  std::string s = "[";
  s.append(std::to_string(b)).append(", ").append(std::to_string(h)).append(", ").append(std::to_string(qb));
  return s.append("]");
}

// A mask's head count: the query heads, the kv heads or 1.
int64_t mask_heads(const AttentionParams& p, int64_t hm, const char* name) {
  if (hm != p.Hq && hm != p.Hkv && hm != 1)
    range_error(std::string(name) + " (mask heads) must be the query heads (" + std::to_string(p.Hq) +
                "), the kv heads (" + std::to_string(p.Hkv) + ") or 1, got " + std::to_string(hm));
  return hm;
}

}  // namespace

void block_sparse_bind_mask(AttentionParams& p, const TensorView* indices, const TensorView* counts,
                            const TensorView* head_modes, const BlockSparseOptions& opt, const TensorView* dense) {
  if (opt.block != 64 && opt.block != 128)
    range_error("options.blockSize must be 64 or 128, got " + std::to_string(opt.block));
  BlockMask m;
  m.block = opt.block;
  m.nqb = (p.Nq + m.block - 1) / m.block;
  m.nkb = (p.Nk + m.block - 1) / m.block;
  if (opt.mask_key_blocks >= 0 && opt.mask_key_blocks != m.nkb)
    range_error("mask.shape[3] (key blocks) must equal ceil(Nk / blockSize) = " + std::to_string(m.nkb) + ", got " +
                std::to_string(opt.mask_key_blocks));
  check::int_range(opt.sink_blocks, "options.sinkBlocks", 0, int64_t(1) << 40);
  check::int_range(opt.local_blocks, "options.localBlocks", 0, int64_t(1) << 40);
  m.sink_blocks = std::min(opt.sink_blocks, m.nkb);
  m.local_blocks = std::min(opt.local_blocks, m.nkb);

  bool any_masked = true;
  if (head_modes) {
    check::tensor(*head_modes, "options.headModes", 1, {DType::U8});
    check::same_device(p.q, "q", *head_modes, "options.headModes");
    check::dim_equals(*head_modes, "options.headModes", 0, "query heads", p.Hq, "the query heads");
    any_masked = false;
    const std::vector<uint8_t> modes = host_elements<uint8_t>(*head_modes);
    for (size_t h = 0; h < modes.size(); ++h) {
      if (modes[h] > uint8_t(HeadMode::Masked))
        range_error("options.headModes[" + std::to_string(h) + "] must be 0 (dense), 1 (streaming) or 2 (masked), got " +
                    std::to_string(modes[h]));
      any_masked |= modes[h] == uint8_t(HeadMode::Masked);
    }
    m.head_modes = *head_modes;
  }

  if (dense) {
    check::tensor(*dense, "mask", 4, {DType::U8});
    check::same_device(p.q, "q", *dense, "mask");
    check::dim_equals(*dense, "mask", 0, "batch", p.B, "q's batch");
    m.Hm = mask_heads(p, dense->shape[1], "mask.shape[1]");
    check::dim_equals(*dense, "mask", 2, "query blocks", m.nqb, "ceil(Nq / blockSize)");
    check::dim_equals(*dense, "mask", 3, "key blocks", m.nkb, "ceil(Nk / blockSize)");
    m.dense = *dense;
    p.mask = m;
    return;
  }
  if (!indices || !counts) {
    if (any_masked) type_error("mask is required: a masked head reads its key blocks from it");
    m.Hm = 1;
    p.mask = m;
    return;
  }
  check::tensor(*indices, "mask.indices", 4, {DType::I32});
  check::tensor(*counts, "mask.counts", 3, {DType::I32});
  check::same_device(p.q, "q", *indices, "mask.indices");
  check::same_device(p.q, "q", *counts, "mask.counts");
  check::dim_equals(*indices, "mask.indices", 0, "batch", p.B, "q's batch");
  m.Hm = mask_heads(p, indices->shape[1], "mask.indices.shape[1]");
  check::dim_equals(*indices, "mask.indices", 2, "query blocks", m.nqb, "ceil(Nq / blockSize)");
  for (int d = 0; d < 3; ++d)
    check::dim_equals(*counts, "mask.counts", d, "leading dims", indices->shape[d],
                      "mask.indices.shape[" + std::to_string(d) + "]");
  const int64_t max_k = indices->shape[3];
  const std::vector<int32_t> ix = host_elements<int32_t>(*indices), ct = host_elements<int32_t>(*counts);
  for (int64_t r = 0; r < int64_t(ct.size()); ++r) {
    const int64_t b = r / (m.Hm * m.nqb), h = r / m.nqb % m.Hm, qb = r % m.nqb;
    const int64_t n = ct[size_t(r)];
    if (n < 0 || n > max_k)
      range_error("mask.counts" + at(b, h, qb) + " must be in [0, " + std::to_string(max_k) +
                  "] (mask.indices.shape[3]), got " + std::to_string(n));
    const int32_t* row = ix.data() + r * max_k;
    for (int64_t x = 0; x < n; ++x) {
      if (row[x] < 0 || row[x] >= m.nkb)
        range_error("mask.indices" + at(b, h, qb) + "[" + std::to_string(x) + "] must be a key block in [0, " + std::to_string(m.nkb) + "), got " + std::to_string(row[x]));
      if (x > 0 && row[x] <= row[x - 1])
        range_error("mask.indices" + at(b, h, qb) + " must be strictly ascending, got " +
                    std::to_string(row[x - 1]) + " then " + std::to_string(row[x]));
    }
  }
  m.indices = *indices;
  m.counts = *counts;
  p.mask = m;
}

}  // namespace subq
