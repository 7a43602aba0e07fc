// XAttention block selection: the emulated CUDA kernel against the CPU backend, bit for
// bit (mask and counts), and both against a reference written from the definition (the
// greedy order, score descending then index ascending; its shortest prefix reaching
// threshold x total) on scores whose sums are exact (multiples of 1/16), where the
// fixed summation order cannot matter. Odd shapes, ties, zeros and negatives, thresholds
// 0 and 1, per-head thresholds, causal rows before block 0, keepSink / keepRecent, long
// rows, strided scores; general (softmax-like) scores for the bit-for-bit comparison.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "../../csrc/cpu/xattention.h"
#include "harness.h"
#include "tensor_view.h"
#include "xattention_runner.h"

namespace subq::test {

namespace {

enum class Values { Dyadic, Softmax, Special, Rounding };

struct SCase {
  int64_t B = 1, H = 2, nqb = 3, nkb = 5;
  std::vector<double> thresholds{0.9};  // one per head, or one for all
  bool causal = false, keep_sink = true, keep_recent = true;
  Values values = Values::Dyadic;
  int levels = 8;  // dyadic: levels values, multiples of 1/16
  int64_t pad = 0;  // extra elements per scores row (a strided view)

  std::string name() const {
    std::string t;
    for (double x : thresholds) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", x);
      t += (t.empty() ? "" : ",") + std::string(buf);
    }
    return "xattention select B" + std::to_string(B) + " H" + std::to_string(H) + " " + std::to_string(nqb) + "x" +
           std::to_string(nkb) + " thr " + t + (causal ? " causal" : "") + (keep_sink ? "" : " nosink") +
           (keep_recent ? "" : " norecent") +
           (values == Values::Softmax   ? " softmax"
            : values == Values::Special ? " special"
            : values == Values::Rounding ? " rounding"
                                         : " dyadic") +
           (pad ? " strided" : "");
  }
};

// The kept set of one row from the definition; sums in double are exact for dyadic scores.
std::vector<uint8_t> reference_row(const float* v, int64_t nkb, int64_t qb, int64_t nqb, const SCase& c, double thr) {
  std::vector<uint8_t> keep(size_t(nkb), 0);
  const int64_t diag = qb + nkb - nqb;
  const int64_t end = c.causal ? std::clamp<int64_t>(diag + 1, 0, nkb) : nkb;
  if (end == 0) return keep;
  double total = 0, kept = 0;
  for (int64_t kb = 0; kb < end; ++kb) total += v[kb];
  if (c.keep_sink) keep[0] = 1;
  if (c.keep_recent && diag >= 0 && diag < end) keep[size_t(diag)] = 1;
  std::vector<int64_t> order;
  for (int64_t kb = 0; kb < end; ++kb) {
    if (keep[size_t(kb)]) kept += v[kb];
    else if (v[kb] > 0) order.push_back(kb);
  }
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return v[a] > v[b]; });
  const double need = thr * total;
  for (int64_t kb : order) {
    if (kept >= need) break;
    keep[size_t(kb)] = 1;
    kept += v[kb];
  }
  return keep;
}

std::vector<float> make_scores(const SCase& c, int64_t row_len) {
  std::mt19937 rng(uint32_t(c.B * 1000003 + c.H * 10007 + c.nqb * 101 + c.nkb * 7 + c.levels + int(c.values)));
  const int64_t rows = c.B * c.H * c.nqb;
  std::vector<float> s(size_t(rows * row_len), std::numeric_limits<float>::quiet_NaN());
  for (int64_t r = 0; r < rows; ++r) {
    float* v = s.data() + r * row_len;
    if (c.values == Values::Dyadic) {
      std::uniform_int_distribution<int> u(0, c.levels - 1);
      // levels > 2: -1/16 .. (levels - 2)/16 (a negative and zeros); else equal nonzero scores.
      for (int64_t kb = 0; kb < c.nkb; ++kb) v[kb] = float(u(rng) - (c.levels > 2 ? 1 : -1)) / 16.f;
    } else if (c.values == Values::Softmax) {
      // Block sums of a softmax: a few heavy blocks, a long tail spanning many binades.
      std::normal_distribution<double> n(0.0, 4.0);
      double sum = 0;
      std::vector<double> e(size_t(c.nkb));
      for (auto& x : e) sum += (x = std::exp(n(rng)));
      for (int64_t kb = 0; kb < c.nkb; ++kb) v[kb] = float(16.0 * e[size_t(kb)] / sum);
      if (c.nkb > 4) v[c.nkb / 2] = v[c.nkb / 3];  // a tie
    } else if (c.values == Values::Rounding) {
      // Ones among many scores below half an ulp of 1: how much of them survives depends on
      // the order of the sums, so only the rule's one order gives the rule's mask.
      for (int64_t kb = 0; kb < c.nkb; ++kb) v[kb] = kb % 37 == 0 ? 1.f : std::ldexp(1.f, -54 - int(kb % 3));
    } else {
      // Zeros, negatives, -0, subnormals, huge values and ties side by side.
      const float pool[] = {0.f, -0.f, -0.25f, 1e-40f, 3e-39f, 0.5f, 0.5f, 1.f, 2.5f, 1e30f, 7.f, 1.f / 3.f};
      std::uniform_int_distribution<int> u(0, int(sizeof pool / sizeof pool[0]) - 1);
      for (int64_t kb = 0; kb < c.nkb; ++kb) v[kb] = pool[u(rng)];
    }
  }
  return s;
}

void run_case(const SCase& c) {
  const int64_t row_len = c.nkb + c.pad, rows = c.B * c.H * c.nqb;
  std::vector<float> scores = make_scores(c, row_len);
  std::vector<double> thr(size_t(c.H));
  for (int64_t h = 0; h < c.H; ++h) thr[size_t(h)] = c.thresholds[c.thresholds.size() == 1 ? 0 : size_t(h)];

  XSelectParams p;
  p.B = c.B, p.H = c.H, p.nqb = c.nqb, p.nkb = c.nkb;
  p.causal = c.causal, p.keep_sink = c.keep_sink, p.keep_recent = c.keep_recent;
  p.thresholds = thr.data();
  p.scores = view(scores.data(), DType::F32, {c.B, c.H, c.nqb, c.nkb},
                  {c.H * c.nqb * row_len, c.nqb * row_len, row_len, 1}, int64_t(scores.size()));
  // Outputs prefilled with a value neither backend writes: every element must be written.
  std::vector<uint8_t> mask_cpu(size_t(rows * c.nkb), 7), mask_gpu(mask_cpu);
  std::vector<int32_t> count_cpu(size_t(rows), -1), count_gpu(count_cpu);
  auto bind = [&](std::vector<uint8_t>& m, std::vector<int32_t>& n) {
    p.mask = view(m.data(), DType::U8, {c.B, c.H, c.nqb, c.nkb}, {c.H * c.nqb * c.nkb, c.nqb * c.nkb, c.nkb, 1},
                  int64_t(m.size()));
    p.counts = view(n.data(), DType::I32, {c.B, c.H, c.nqb}, {c.H * c.nqb, c.nqb, 1}, int64_t(n.size()));
  };
  bind(mask_cpu, count_cpu);
  cpu::xattention_select(p);
  bind(mask_gpu, count_gpu);
  run_cuda_xattention_select(p);

  for (int64_t r = 0; r < rows; ++r) {
    int32_t n = 0;
    for (int64_t kb = 0; kb < c.nkb; ++kb) {
      const size_t i = size_t(r * c.nkb + kb);
      check(mask_gpu[i] == mask_cpu[i], "row " + std::to_string(r) + " block " + std::to_string(kb) + ": CUDA " +
                                            std::to_string(mask_gpu[i]) + ", CPU " + std::to_string(mask_cpu[i]));
      check(mask_cpu[i] <= 1, "mask element not written");
      n += mask_cpu[i];
    }
    check(count_cpu[size_t(r)] == n && count_gpu[size_t(r)] == n, "row " + std::to_string(r) + " count");
  }
  if (c.values != Values::Dyadic) return;  // sums not exact: the bit-for-bit agreement above is the check
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t h = r / c.nqb % c.H, qb = r % c.nqb;
    const std::vector<uint8_t> want = reference_row(scores.data() + r * row_len, c.nkb, qb, c.nqb, c, thr[size_t(h)]);
    for (int64_t kb = 0; kb < c.nkb; ++kb)
      check(mask_cpu[size_t(r * c.nkb + kb)] == want[size_t(kb)],
            "row " + std::to_string(r) + " block " + std::to_string(kb) + " differs from the reference");
  }
}

std::vector<SCase> cases() {
  std::vector<SCase> out;
  const int64_t shapes[][2] = {{1, 1}, {1, 7}, {3, 3}, {4, 9}, {6, 12}, {5, 3}, {2, 33}, {3, 70}};
  int idx = 0;
  for (const auto& s : shapes)
    for (double thr : {0.0, 0.5, 0.7316, 0.9, 1.0})
      for (int f = 0; f < 8; ++f) {
        if ((idx++ + f) % 3 != 0 && s[1] > 12) continue;  // long rows: a third of the flag sets
        SCase c;
        c.B = 2, c.H = 2, c.nqb = s[0], c.nkb = s[1];
        c.thresholds = {thr};
        c.causal = f & 1, c.keep_sink = !(f & 2), c.keep_recent = !(f & 4);
        c.pad = idx % 4 == 1 ? 3 : 0;
        out.push_back(c);
      }
  // Per-head thresholds, 0 and 1 among them.
  SCase ph;
  ph.H = 3, ph.nqb = 4, ph.nkb = 10, ph.causal = true, ph.thresholds = {0.0, 0.5, 1.0};
  out.push_back(ph);
  // Long rows (many lanes per warp, long bisection), many ties, and all-equal rows.
  for (auto [nkb, levels, thr] : {std::tuple{700, 8, 0.5}, {700, 64, 0.99}, {1500, 1024, 0.999}, {701, 1, 1.0}, {640, 1, 0.5}}) {
    SCase c;
    c.B = 1, c.H = 1, c.nqb = 3, c.nkb = nkb, c.levels = levels, c.thresholds = {thr}, c.causal = true;
    out.push_back(c);
  }
  // Scores whose sums round: the selection follows the fixed order's bits.
  for (int64_t nkb : {64, 200, 1000})
    for (double thr : {1.0, 0.9999999999999999, 0.99999999999999}) {
      SCase c;
      c.B = 1, c.H = 1, c.nqb = 1, c.nkb = nkb, c.thresholds = {thr}, c.values = Values::Rounding;
      c.keep_sink = false, c.keep_recent = false;
      out.push_back(c);
    }
  // General scores (exact agreement only) and special values.
  for (auto [nqb, nkb, causal] : {std::tuple{8, 8, true}, {5, 37, false}, {16, 300, true}, {2, 1030, false}})
    for (double thr : {0.3, 0.9, 0.95, 1.0}) {
      SCase c;
      c.B = 1, c.H = 2, c.nqb = nqb, c.nkb = nkb, c.causal = causal, c.thresholds = {thr}, c.values = Values::Softmax;
      out.push_back(c);
      c.values = Values::Special;
      out.push_back(c);
    }
  return out;
}

}  // namespace

void register_xattention_select_tests() {
  for (const SCase& c : cases()) add(c.name(), [c] { run_case(c); });
}

}  // namespace subq::test
