// State-space family: the checks that fill the params of core/ssm_params.h (which states
// the math of each op) and the entry points.
#pragma once
#include <cstdint>

#include "../core/ssm_params.h"

namespace subq {

// Selective scan.
struct SelectiveScanInputs {
  TensorView u, delta, A, B, C;
  const TensorView *D = nullptr, *z = nullptr, *delta_bias = nullptr, *initial_state = nullptr,
                   *cu_seqlens = nullptr;
  bool softplus = false;
  bool return_last_state = false;
};

SelectiveScanParams selective_scan_prepare(const SelectiveScanInputs& in);
void selective_scan_out_shape(const SelectiveScanParams& p, int64_t shape[3]);
void selective_scan_state_shape(const SelectiveScanParams& p, int64_t shape[3]);
// Checks the outputs (last_state may be null unless it was requested) and binds them.
void selective_scan_bind_outputs(SelectiveScanParams& p, const TensorView& out, const TensorView* last_state);
void selective_scan_run(const SelectiveScanParams& p);

// The scan's single-step decode update.
struct StateUpdateInputs {
  TensorView state, x, dt, A, B, C;
  const TensorView *D = nullptr, *z = nullptr, *dt_bias = nullptr, *state_indices = nullptr;
  bool softplus = false;
};

StateUpdateParams state_update_prepare(const StateUpdateInputs& in);
void state_update_out_shape(const StateUpdateParams& p, int64_t shape[2]);
void state_update_bind_output(StateUpdateParams& p, const TensorView& out);
void state_update_run(const StateUpdateParams& p);

// Causal depthwise conv1d.
struct Conv1dInputs {
  TensorView x, weight;
  const TensorView *bias = nullptr, *initial_states = nullptr, *cu_seqlens = nullptr;
  bool silu = false;
  bool return_final_states = false;
};

Conv1dParams conv1d_prepare(const Conv1dInputs& in);
void conv1d_out_shape(const Conv1dParams& p, int64_t shape[3]);
void conv1d_state_shape(const Conv1dParams& p, int64_t shape[3]);
void conv1d_bind_outputs(Conv1dParams& p, const TensorView& out, const TensorView* final_states);
void conv1d_run(const Conv1dParams& p);

// The conv's decode steps.
struct Conv1dUpdateInputs {
  TensorView x, conv_state, weight;
  const TensorView *bias = nullptr, *state_indices = nullptr;
  bool silu = false;
};

Conv1dUpdateParams conv1d_update_prepare(const Conv1dUpdateInputs& in);
void conv1d_update_out_shape(const Conv1dUpdateParams& p, int64_t shape[3]);  // x's rank
void conv1d_update_bind_output(Conv1dUpdateParams& p, const TensorView& out);
void conv1d_update_run(const Conv1dUpdateParams& p);

}  // namespace subq
