// Flash attention on the CPU: which kernels a call runs (ISA, vector width, bf16 dot
// products) and which driver (attention_driver.h).
#include "attention.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#include "../core/cpu_features.h"
#include "../core/env_warnings.h"
#include "../core/quant_params.h"
#include "attention_bf16_kernels.h"
#include "block_mask.h"
#include "attention_driver.h"
#include "attention_kernels.h"
#include "attention_rows.h"
#include "vector_width.h"

namespace subq::cpu {

namespace {

// ---- Which kernels: cpu/vector_width.h decides zmm or ymm at the AVX-512 level.
// Block-sparse calls take tiles that divide their 64- or 128-row query blocks.
const AttentionKernels& pick_kernels(bool sparse) {
  switch (simd_level()) {
    case SimdLevel::AVX512:
      if (!use_zmm()) return attention_kernels_avx512_ymm();
      return sparse ? attention_kernels_avx512_zmm64() : attention_kernels_avx512_zmm();
    case SimdLevel::AVX2: return attention_kernels_avx2();
    default: return attention_kernels_scalar();
  }
}

// ---- bf16 inputs: Q.K^T and P.V on AVX512-BF16 (attention_bf16_kernels.h) where the CPU
// has it, the level is AVX-512 and SUBQ_BF16_DOT is not 0; else widened to fp32.
bool bf16_dot_setting() {
  static const bool on = [] {
    const char* env = std::getenv("SUBQ_BF16_DOT");
    if (!env || !std::strcmp(env, "1")) return true;
    if (!std::strcmp(env, "0")) return false;
    env_warning("SUBQ_BF16_DOT", env, "expected 0 or 1; using 1");
    return true;
  }();
  return on;
}

bool bf16_dot() { return cpu_features().avx512bf16 && simd_level() == SimdLevel::AVX512 && bf16_dot_setting(); }

// The bf16 set with the query tile of the fp32 set chosen for the call, or none. bf16
// inputs take both products; a quantized call with pv bf16 its P.V (P and V rounded to
// bf16, fp32 sums: the pv semantics) after the integer Q.K^T.
const AttentionBf16Kernels* pick_bf16_kernels(const AttentionParams& p, const AttentionKernels& kern) {
  const bool wanted = p.quant ? p.quant->pv == DType::BF16 : p.q.dtype == DType::BF16;
  if (!wanted || !bf16_dot()) return nullptr;
  if (&kern == &attention_kernels_avx512_zmm()) return &attention_bf16_kernels_zmm();
  if (&kern == &attention_kernels_avx512_zmm64()) return &attention_bf16_kernels_zmm64();
  if (&kern == &attention_kernels_avx512_ymm()) return &attention_bf16_kernels_ymm();
  return nullptr;
}

}  // namespace

const char* attention_bf16_path() { return bf16_dot() ? "avx512-bf16" : "fp32-widen"; }
double score_unit(const AttentionParams& p) { return q_scale(p); }

void attention(const AttentionParams& p) {
  if (p.B == 0 || p.Hq == 0 || p.Nq == 0) return;
  if (p.mask.dense.data) {
    // A uint8 mask: its compact form first, for the tile driver's block lists, rows
    // padded to the widest (a counting pass finds it).
    AttentionParams c = p;
    const size_t rows = size_t(p.B * p.mask.Hm * p.mask.nqb);
    std::vector<int32_t> counts(rows);
    BlockMask probe = p.mask;
    BlockMaskParams count = dense_mask_compaction(probe, p.B, 0, nullptr, counts.data());
    int32_t widest = 1;
    count.max_count = &widest;
    block_mask_compact(count);
    std::vector<int32_t> indices(rows * size_t(widest));
    block_mask_compact(dense_mask_compaction(c.mask, p.B, widest, indices.data(), counts.data()));
    return attention(c);
  }
  const AttentionKernels& kern = pick_kernels(p.mask.active());
  // Quantized decode adds q . km to the LSE alone, which a softcap would not allow; in the
  // tiled path's steps (pv 'int8', pv 'bf16' from a quantized V) it adds it to the scores,
  // as the tiles do.
  const bool shifted_cap = p.quant && p.quant->q_bias && p.softcap > 0 && !quant_decode_tile_steps(p);
  if (!p.mask.active() && p.Hq / p.Hkv * p.Nq <= kDecodeRows && !shifted_cap)
    return decode_attention(p, kern, pick_bf16_kernels(p, kern));
  tile_attention(p, kern, pick_bf16_kernels(p, kern));
}

}  // namespace subq::cpu
