// What the state-space kernels read (Mamba semantics, docs/semantics.md): selective scan, its single-step
// decode update, causal depthwise conv1d and its decode update. fp32 state math.
//
// selective scan, for each batch b, channel d, state n, step l:
//   dt = delta[b,d,l] + delta_bias[d];  if softplus: dt = dt <= 20 ? log1p(exp(dt)) : dt
//   x[n] = exp(dt * A[d,n]) * x[n] + dt * B[n,l] * u[b,d,l]   (x starts at initial_state or 0)
//   y = sum_n x[n] * C[n,l];  out = y + D[d] * u;  if z: out *= silu(z[b,d,l])
// B and C are [d, N] (constant over time) or [b, G, N, L] (varying; channel d reads group
// d / (dim / G)). With cu_seqlens (b = 1) the L axis packs sequences
// [cu[i], cu[i+1]); each starts from its own initial state and ends in its own last state.
#pragma once
#include <cstdint>
#include <vector>

#include "tensor.h"

namespace subq {

// A run of steps that shares one recurrence: batch row `batch`, steps [start, start+len),
// initial/last state slot `slot`.
struct SsmSequence {
  int64_t batch = 0, start = 0, len = 0, slot = 0;
};

// Absent optional tensors have data == nullptr.
struct SelectiveScanParams {
  TensorView u, delta, A, B, C, D, z, delta_bias, initial_state, out, last_state;
  int64_t batch = 0, dim = 0, len = 0, dstate = 0, groups = 1;
  bool B_varying = false, C_varying = false, softplus = false;
  std::vector<SsmSequence> seqs;  // copied from cu_seqlens at validation
};

// One decode step for each batch row b, updating state slot s = state_indices[b] (or b):
//   state[s,d,n] = state[s,d,n] * exp(dt*A[d,n]) + dt * B[b,g,n] * x[b,d]
//   out[b,d] = sum_n state[s,d,n] * C[b,g,n] + D[d]*x[b,d]  (* silu(z[b,d]))
// with dt as in the scan. A negative slot is padding: out = 0 and no state is touched.
struct StateUpdateParams {
  TensorView state, x, dt, A, B, C, D, z, dt_bias, out;
  int64_t batch = 0, dim = 0, dstate = 0, groups = 1;
  bool softplus = false;
  std::vector<int64_t> slots;  // one per batch row; -1 = padding
};

// Causal depthwise conv1d of width w (2..8):
//   out[b,d,l] = bias[d] + sum_k weight[d,k] * x[b,d,l-(w-1)+k]   (then silu if asked)
// where positions before a sequence's start read initial_states[s,d,:] (w-1 values, oldest
// first) or 0. final_states[s,d,:] holds the last w-1 inputs of each sequence (earlier
// positions from the initial state when the sequence is shorter).
struct Conv1dParams {
  TensorView x, weight, bias, initial_states, out, final_states;
  int64_t batch = 0, dim = 0, len = 0, width = 0;
  bool silu = false;
  std::vector<SsmSequence> seqs;
};

// Decode steps of the conv: x [b, d] or [b, d, T]; conv_state [S, d, K] with K >= w-1 holds
// the last K inputs (oldest first). Each step t: window = (last w-1 state values, x[t]),
// out = bias + weight . window (silu if asked), then the state shifts left by one and takes
// x[t] at the end. state_indices as in the state update.
struct Conv1dUpdateParams {
  TensorView x, conv_state, weight, bias, out;  // x and out viewed as [b, d, T]
  int64_t batch = 0, dim = 0, steps = 0, width = 0, state_len = 0;
  int x_ndim = 3;
  bool silu = false;
  std::vector<int64_t> slots;
};

}  // namespace subq
