// Host side of the CUDA attention kernels: how a call is split into kernel launches
// (attention_plan) and the launches themselves. Views in AttentionParams hold
// device pointers (host pointers under the SIMT emulator). Needs no CUDA header:
// CUstream_st* is cudaStream_t.
#pragma once
#include <cstdint>

#include "../core/attention_params.h"

struct CUstream_st;

namespace subq::cuda {

struct AttentionLaunchOptions {
  int splits = 0;           // split-KV factor; 0 = choose (only small Nq is split)
  int pack_gqa = -1;        // pack the query heads of a kv head into one block row: 1, 0, or -1 = choose
  int multiprocessors = 0;  // for the split choice; 0 = ask the current device
};

struct AttentionPlan {
  int splits = 1;               // > 1: partial results in the workspace, then a combine kernel
  int group = 1;                // query heads packed per block row
  bool decode = false;          // at most 16 rows per block row: the decode kernels (fp16/bf16)
  int64_t workspace_bytes = 0;  // device memory attention_launch needs (0 when unsplit)
};

AttentionPlan attention_plan(const AttentionParams& p, const AttentionLaunchOptions& opt = {});

// Enqueues the kernels on `stream`; `workspace` holds plan.workspace_bytes bytes
// (16-byte aligned) and stays in use until the stream passes this point.
void attention_launch(const AttentionParams& p, const AttentionPlan& plan, void* workspace, CUstream_st* stream);

// The device view of p.mask (FwdMask, attn_params.cuh; inactive: all zero), for the
// kernels that walk a block mask.
struct FwdMask;
FwdMask mask_params(const AttentionParams& p);

}  // namespace subq::cuda
