// Block-mask compaction (core/block_mask.h): the emulated CUDA kernel and the CPU backend
// against a reference written from the definition (the union of each group's rows, the
// token diagonal OR'd in, kept ids ascending, zeros past the count), on odd shapes:
// 1, 3, 65 and 200 key blocks, empty and all-ones rows, several batches and heads,
// pooling groups 1, 2 and 4, Nq % block != Nk % block, strided sources, the counting pass
// (no indices) and rows padded to every key block. And back: the expansion of the
// compact forms (with strided lists, and rows whose unused entries are garbage) against
// the source mask.
#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "../../csrc/cpu/block_mask.h"
#include "block_mask_runner.h"
#include "harness.h"
#include "tensor_view.h"

namespace subq::test {

namespace {

enum class Fill { Random, Empty, Full, EmptyRows };

struct MCase {
  int64_t B = 1, Hm = 1, group = 1, nqb = 3, nkb = 3;
  double density = 0.3;
  Fill fill = Fill::Random;
  int64_t block = 0, Nq = 0, Nk = 0;  // token diagonal when block > 0
  bool causal = false;
  int64_t pad = 0;        // extra bytes per source row (a strided view)
  bool widest = true;     // max_k = the widest row (at least 1), else nkb
  bool counting = false;  // a counting pass: no indices

  std::string name() const {
    const char* f = fill == Fill::Random ? "" : fill == Fill::Empty ? " empty" : fill == Fill::Full ? " full" : " empty-rows";
    std::string s = "block mask B" + std::to_string(B) + " Hm" + std::to_string(Hm) + " g" + std::to_string(group) + " " +
                    std::to_string(nqb) + "x" + std::to_string(nkb) + " d" + std::to_string(int(density * 100)) + f;
    if (block) s += " diag " + std::to_string(Nq) + "/" + std::to_string(Nk) + "@" + std::to_string(block);
    return s + (causal ? " causal" : "") + (pad ? " strided" : "") + (widest ? "" : " maxk=nkb") + (counting ? " counting" : "");
  }
};

// The source mask [B, Hm * group, nqb, nkb + pad], values 0..3 (nonzero = kept), the pad
// bytes 1 so reading them would show.
std::vector<uint8_t> make_mask(const MCase& c) {
  const int64_t row_len = c.nkb + c.pad, rows = c.B * c.Hm * c.group * c.nqb;
  std::mt19937 rng(uint32_t(c.B * 7919 + c.Hm * 613 + c.group * 97 + c.nqb * 31 + c.nkb * 3 + int(c.density * 100)));
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<uint8_t> m(size_t(rows * row_len), 1);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t kb = 0; kb < c.nkb; ++kb) {
      uint8_t v = 0;
      if (c.fill == Fill::Full) v = uint8_t(1 + kb % 3);
      else if (c.fill == Fill::Random || (c.fill == Fill::EmptyRows && r % 3 != 0)) v = u(rng) < c.density ? uint8_t(1 + rng() % 3) : 0;
      m[size_t(r * row_len + kb)] = v;
    }
  return m;
}

// The kept ids of output row (b, hm, qb), ascending, from the definition.
std::vector<int32_t> reference_row(const std::vector<uint8_t>& m, const MCase& c, int64_t b, int64_t hm, int64_t qb) {
  const int64_t row_len = c.nkb + c.pad, Hs = c.Hm * c.group;
  std::vector<bool> keep(size_t(c.nkb), false);
  for (int64_t h = hm * c.group; h < (hm + 1) * c.group; ++h)
    for (int64_t kb = 0; kb < c.nkb; ++kb)
      if (m[size_t(((b * Hs + h) * c.nqb + qb) * row_len + kb)]) keep[size_t(kb)] = true;
  if (c.block > 0) {
    // The key aligned with the block's last query row, bottom-right.
    const int64_t last_q = std::min((qb + 1) * c.block, c.Nq) - 1;
    const int64_t key = last_q + (c.Nk - c.Nq);
    if (key >= 0) keep[size_t(std::min(key, c.Nk - 1) / c.block)] = true;
  }
  std::vector<int32_t> ids;
  for (int64_t kb = 0; kb < c.nkb; ++kb)
    if (keep[size_t(kb)]) ids.push_back(int32_t(kb));
  return ids;
}

struct Outputs {
  std::vector<uint8_t> out_mask;
  std::vector<int32_t> indices, counts, visible;
  int32_t max_count = -5;
};

void run_case(const MCase& c) {
  const int64_t row_len = c.nkb + c.pad, Hs = c.Hm * c.group, rows = c.B * c.Hm * c.nqb;
  std::vector<uint8_t> m = make_mask(c);

  std::vector<std::vector<int32_t>> want(static_cast<size_t>(rows));
  int64_t widest = 1;
  for (int64_t r = 0; r < rows; ++r) {
    want[size_t(r)] = reference_row(m, c, r / (c.Hm * c.nqb), r / c.nqb % c.Hm, r % c.nqb);
    widest = std::max<int64_t>(widest, int64_t(want[size_t(r)].size()));
  }
  const int64_t max_k = c.widest ? widest : c.nkb;

  BlockMaskParams p;
  p.B = c.B, p.Hm = c.Hm, p.group = c.group, p.nqb = c.nqb, p.nkb = c.nkb, p.max_k = max_k;
  p.block = c.block, p.Nq = c.Nq, p.Nk = c.Nk, p.causal = c.causal;
  p.mask = view(m.data(), DType::U8, {c.B, Hs, c.nqb, c.nkb}, {Hs * c.nqb * row_len, c.nqb * row_len, row_len, 1},
                int64_t(m.size()));
  // Outputs prefilled with values neither backend writes: every element must be written.
  auto bind = [&](Outputs& o) {
    o.out_mask.assign(size_t(rows * c.nkb), 7);
    o.indices.assign(size_t(rows * max_k), -9);
    o.counts.assign(size_t(rows), -1);
    o.visible.assign(size_t(rows), -1);
    p.out_mask = view(o.out_mask.data(), DType::U8, {c.B, c.Hm, c.nqb, c.nkb}, {c.Hm * c.nqb * c.nkb, c.nqb * c.nkb, c.nkb, 1},
                      int64_t(o.out_mask.size()));
    p.indices = c.counting ? TensorView{}
                           : view(o.indices.data(), DType::I32, {c.B, c.Hm, c.nqb, max_k},
                                  {c.Hm * c.nqb * max_k, c.nqb * max_k, max_k, 1}, int64_t(o.indices.size()));
    p.counts = view(o.counts.data(), DType::I32, {c.B, c.Hm, c.nqb}, {c.Hm * c.nqb, c.nqb, 1}, rows);
    p.visible = view(o.visible.data(), DType::I32, {c.B, c.Hm, c.nqb}, {c.Hm * c.nqb, c.nqb, 1}, rows);
    o.max_count = 0;
    p.max_count = &o.max_count;
  };
  Outputs cpu_out, gpu_out;
  bind(cpu_out);
  cpu::block_mask_compact(p);
  bind(gpu_out);
  run_cuda_block_mask_compact(p);

  for (const Outputs* o : {&cpu_out, &gpu_out}) {
    const std::string who = o == &cpu_out ? "CPU" : "CUDA";
    int32_t wide = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const std::vector<int32_t>& w = want[size_t(r)];
      const std::string at = who + " row " + std::to_string(r);
      check(o->counts[size_t(r)] == int32_t(w.size()),
            at + " count " + std::to_string(o->counts[size_t(r)]) + ", want " + std::to_string(w.size()));
      wide = std::max(wide, int32_t(w.size()));
      const int64_t qb = r % c.nqb;
      const int64_t vis_end = c.causal ? std::clamp<int64_t>(qb + c.nkb - c.nqb + 1, 0, c.nkb) : c.nkb;
      const int32_t nv = int32_t(std::count_if(w.begin(), w.end(), [&](int32_t kb) { return kb < vis_end; }));
      check(o->visible[size_t(r)] == nv, at + " visible count " + std::to_string(o->visible[size_t(r)]) + ", want " + std::to_string(nv));
      for (int64_t kb = 0; kb < c.nkb; ++kb) {
        const uint8_t in = std::binary_search(w.begin(), w.end(), int32_t(kb));
        check(o->out_mask[size_t(r * c.nkb + kb)] == in, at + " mask block " + std::to_string(kb));
      }
      for (int64_t x = 0; x < max_k; ++x) {
        const int32_t got = o->indices[size_t(r * max_k + x)];
        const int32_t exp = c.counting ? -9 : x < int64_t(w.size()) ? w[size_t(x)] : bmask::kPad;
        check(got == exp, at + " indices[" + std::to_string(x) + "] = " + std::to_string(got) + ", want " + std::to_string(exp));
      }
    }
    check(o->max_count == wide, who + " max count " + std::to_string(o->max_count) + ", want " + std::to_string(wide));
  }
}

// The compact form of a random mask with max_k slots and garbage past each count, its
// lists strided (pad), expanded on both backends: the source mask again.
void run_expand(int64_t B, int64_t Hm, int64_t nqb, int64_t nkb, double density, int64_t pad) {
  MCase c;
  c.B = B, c.Hm = Hm, c.nqb = nqb, c.nkb = nkb, c.density = density;
  const std::vector<uint8_t> m = make_mask(c);
  const int64_t rows = B * Hm * nqb, max_k = nkb + 2, row_len = max_k + pad;
  std::vector<int32_t> ix(size_t(rows * row_len), 1 << 30), ct(size_t(rows * 2), -3);  // counts strided by 2
  for (int64_t r = 0; r < rows; ++r) {
    int32_t n = 0;
    for (int64_t kb = 0; kb < nkb; ++kb)
      if (m[size_t(r * nkb + kb)]) ix[size_t(r * row_len + n++)] = int32_t(kb);
    ct[size_t(2 * r)] = n;
  }
  BlockMaskExpandParams p;
  p.B = B, p.Hm = Hm, p.nqb = nqb, p.nkb = nkb, p.max_k = max_k;
  p.indices = view(ix.data(), DType::I32, {B, Hm, nqb, max_k}, {Hm * nqb * row_len, nqb * row_len, row_len, 1}, int64_t(ix.size()));
  p.counts = view(ct.data(), DType::I32, {B, Hm, nqb}, {2 * Hm * nqb, 2 * nqb, 2}, int64_t(ct.size()));
  std::vector<uint8_t> cpu_m(size_t(rows * nkb), 7), gpu_m(cpu_m);
  p.mask = view(cpu_m.data(), DType::U8, {B, Hm, nqb, nkb}, {Hm * nqb * nkb, nqb * nkb, nkb, 1}, int64_t(cpu_m.size()));
  cpu::block_mask_expand(p);
  p.mask.data = gpu_m.data();
  run_cuda_block_mask_expand(p);
  for (size_t i = 0; i < m.size(); ++i) {
    check(cpu_m[i] == (m[i] != 0), "CPU element " + std::to_string(i));
    check(gpu_m[i] == (m[i] != 0), "CUDA element " + std::to_string(i));
  }
}

std::vector<MCase> cases() {
  std::vector<MCase> out;
  int idx = 0;
  for (int64_t nkb : {1, 3, 65, 200})
    for (int64_t group : {1, 2, 4})
      for (Fill fill : {Fill::Random, Fill::Empty, Fill::Full, Fill::EmptyRows}) {
        MCase c;
        c.B = 2, c.Hm = 3, c.group = group, c.nqb = nkb == 1 ? 1 : 5, c.nkb = nkb, c.fill = fill;
        c.density = fill == Fill::Random ? (idx % 3 == 0 ? 0.05 : idx % 3 == 1 ? 0.3 : 0.8) : 0.5;
        c.pad = idx % 4 == 1 ? 5 : 0;
        c.widest = idx % 2 == 0;
        c.causal = idx % 3 == 2;
        ++idx;
        out.push_back(c);
      }
  // The token diagonal, with Nq % block != Nk % block, Nq < Nk, Nq > Nk, equal lengths, and
  // query blocks before the first key (Nq > Nk: no diagonal block).
  const int64_t lens[][3] = {{64, 113, 1030}, {64, 1030, 113}, {128, 1000, 1000}, {128, 129, 8191},
                             {64, 4097, 4160}, {64, 60, 1}, {64, 300, 10}, {128, 300, 12900}};
  for (const auto& l : lens)
    for (int64_t group : {1, 4}) {
      MCase c;
      c.B = 1, c.Hm = 2, c.group = group, c.block = l[0], c.Nq = l[1], c.Nk = l[2];
      c.nqb = (c.Nq + c.block - 1) / c.block, c.nkb = (c.Nk + c.block - 1) / c.block;
      c.density = 0.1, c.causal = true, c.widest = group == 1;
      out.push_back(c);
      c.fill = Fill::Empty;
      out.push_back(c);
    }
  // The counting pass, and many rows (several blocks of warps).
  for (bool counting : {true, false}) {
    MCase c;
    c.B = 3, c.Hm = 4, c.group = 2, c.nqb = 9, c.nkb = 65, c.counting = counting, c.block = 64, c.Nq = 540, c.Nk = 4150;
    out.push_back(c);
  }
  return out;
}

}  // namespace

void register_block_mask_tests() {
  for (const MCase& c : cases()) add(c.name(), [c] { run_case(c); });
  for (int64_t nkb : {1, 3, 65, 200})
    for (double density : {0.0, 0.3, 1.0})
      add("block mask expand B2 Hm3 5x" + std::to_string(nkb) + " d" + std::to_string(int(density * 100)),
          [=] { run_expand(2, 3, 5, nkb, density, nkb % 2 ? 3 : 0); });
}

}  // namespace subq::test
