#include "ssm.h"

#include <algorithm>
#include <string>
#include <utility>

#include "../core/error.h"
#include "../cpu/ssm.h"
#include "../cuda/ssm.h"
#include "check.h"

namespace subq {

namespace {

const auto kFloats = {DType::F32, DType::F16, DType::BF16};
std::string S(int64_t v) { return std::to_string(v); }

TensorView or_empty(const TensorView* t) { return t ? *t : TensorView{}; }

// Host-side integer tensors (sequence offsets, slot indices) are read once here and
// copied, so a caller mutating them while an async call runs cannot steer a kernel.
std::vector<int64_t> read_int32(const TensorView& t) {
  if (t.device.kind != DeviceKind::CPU) type_error("index tensors must be on the CPU");
  std::vector<int64_t> v(size_t(t.shape[0]));
  for (int64_t i = 0; i < t.shape[0]; ++i) v[size_t(i)] = t.ptr<int32_t>()[i * t.stride[0]];
  return v;
}

// One sequence per batch row, or the packed sequences of cu_seqlens (then batch must be 1).
std::vector<SsmSequence> sequences(const TensorView* cu, int64_t batch, int64_t len, const char* bname) {
  std::vector<SsmSequence> seqs;
  if (!cu) {
    for (int64_t b = 0; b < batch; ++b) seqs.push_back({b, 0, len, b});
    return seqs;
  }
  check::tensor(*cu, "options.cuSeqlens", 1, {DType::I32});
  if (batch != 1)
    range_error(std::string(bname) + ".shape[0] (batch) must be 1 with options.cuSeqlens (sequences are packed along L), got " + S(batch));
  check::dim_range(*cu, "options.cuSeqlens", 0, "sequences + 1", 2, int64_t(1) << 40);
  std::vector<int64_t> off = read_int32(*cu);
  if (off[0] != 0) range_error("options.cuSeqlens[0] must be 0, got " + S(off[0]));
  for (size_t i = 1; i < off.size(); ++i)
    if (off[i] < off[i - 1])
      range_error("options.cuSeqlens must be non-decreasing, but [" + S(int64_t(i)) + "] = " + S(off[i]) +
                  " < [" + S(int64_t(i) - 1) + "] = " + S(off[i - 1]));
  if (off.back() != len)
    range_error("options.cuSeqlens[" + S(int64_t(off.size()) - 1) + "] (last) must equal " + bname +
                ".shape[2] (length) = " + S(len) + ", got " + S(off.back()));
  for (size_t i = 0; i + 1 < off.size(); ++i) seqs.push_back({0, off[i], off[i + 1] - off[i], int64_t(i)});
  return seqs;
}

// Slot per batch row: state_indices[b] (negative = padding) or b itself.
std::vector<int64_t> slots(const TensorView* idx, int64_t batch, int64_t nslots, const char* sname) {
  std::vector<int64_t> s(static_cast<size_t>(batch));
  if (!idx) {
    if (nslots != batch)
      range_error(std::string(sname) + ".shape[0] (slots) must equal the batch = " + S(batch) +
                  " without options.stateIndices, got " + S(nslots));
    for (int64_t b = 0; b < batch; ++b) s[size_t(b)] = b;
    return s;
  }
  check::tensor(*idx, "options.stateIndices", 1, {DType::I32});
  check::dim_equals(*idx, "options.stateIndices", 0, "batch", batch, "the batch");
  std::vector<int64_t> v = read_int32(*idx);
  // (slot, row) pairs sorted by slot find a repeated slot; sized by the batch, as
  // the slot count may be far larger than memory (a stride-0 state).
  std::vector<std::pair<int64_t, int64_t>> used;
  for (int64_t b = 0; b < batch; ++b) {
    int64_t k = v[size_t(b)];
    if (k >= nslots)
      range_error("options.stateIndices[" + S(b) + "] = " + S(k) + " is out of range: " + sname + " has " +
                  S(nslots) + " slots");
    if (k < 0) k = -1;
    else used.emplace_back(k, b);
    s[size_t(b)] = k;
  }
  std::sort(used.begin(), used.end());
  for (size_t i = 1; i < used.size(); ++i)
    if (used[i].first == used[i - 1].first)
      range_error("options.stateIndices[" + S(used[i].second) + "] = " + S(used[i].first) +
                  " repeats options.stateIndices[" + S(used[i - 1].second) +
                  "]; each slot may be updated by one batch row");
  return s;
}

// The CUDA launches (cuda/ssm_args.h) put sequences, channels (conv) and batch rows
// (the update kernels) in grid.y / grid.z, which hold at most 65535 blocks; checked
// here, before anything is allocated or enqueued on the device.
constexpr int64_t kCudaGridYZ = 65535;
void cuda_grid(const TensorView& t, int64_t n, const std::string& what) {
  if (t.device.kind == DeviceKind::CUDA && n > kCudaGridYZ)
    range_error("on CUDA, " + what + " must be at most " + S(kCudaGridYZ) + " (a grid dimension of the launch), got " + S(n));
}

void per_channel(const TensorView* t, const char* name, int64_t dim, const TensorView& ref) {
  if (!t) return;
  check::tensor(*t, name, 1, {DType::F32});
  check::same_device(ref, "the inputs", *t, name);
  check::dim_equals(*t, name, 0, "channels", dim, "the channel count");
}

// B or C of the scan: [d, N] constant or [b, G, N, L] varying. Returns whether varying.
bool scan_bc(const TensorView& t, const char* name, const SelectiveScanParams& p, int64_t* groups) {
  if (t.ndim == 2) {
    check::tensor(t, name, 2, kFloats);
    check::dim_equals(t, name, 0, "channels", p.dim, "u.shape[1]");
    check::dim_equals(t, name, 1, "state", p.dstate, "A.shape[1]");
    return false;
  }
  if (t.ndim != 4)
    range_error(std::string(name) + " must be [d, N] (constant) or [b, G, N, L] (varying), got shape " +
                check::shape_str(t));
  check::tensor(t, name, 4, kFloats);
  check::dim_equals(t, name, 0, "batch", p.batch, "u.shape[0]");
  check::dim_equals(t, name, 2, "state", p.dstate, "A.shape[1]");
  check::dim_equals(t, name, 3, "length", p.len, "u.shape[2]");
  if (*groups > 0) check::dim_equals(t, name, 1, "groups", *groups, "B.shape[1]");
  *groups = t.shape[1];
  if (p.dim % *groups != 0)
    range_error(std::string(name) + ".shape[1] (groups) = " + S(*groups) + " must divide u.shape[1] (channels) = " + S(p.dim));
  return true;
}

void state_shape_check(const TensorView& t, const char* name, const int64_t s[3], const char* expected) {
  for (int i = 0; i < 3; ++i) check::dim_equals(t, name, i, i == 0 ? "sequences" : i == 1 ? "channels" : "state", s[i], expected);
}

}  // namespace

// ---------------------------------------------------------------- selective scan

SelectiveScanParams selective_scan_prepare(const SelectiveScanInputs& in) {
  check::tensor(in.u, "u", 3, kFloats);
  check::tensor(in.delta, "delta", 3, kFloats);
  check::same_dtype(in.u, "u", in.delta, "delta");
  check::tensor(in.A, "A", 2, {DType::F32});
  const TensorView* all[] = {&in.delta, &in.A, &in.B, &in.C};
  const char* names[] = {"delta", "A", "B", "C"};
  for (int i = 0; i < 4; ++i) check::same_device(in.u, "u", *all[i], names[i]);

  SelectiveScanParams p;
  p.u = in.u;
  p.delta = in.delta;
  p.A = in.A;
  p.batch = in.u.shape[0];
  p.dim = in.u.shape[1];
  p.len = in.u.shape[2];
  for (int i = 0; i < 3; ++i)
    check::dim_equals(in.delta, "delta", i, i == 0 ? "batch" : i == 1 ? "channels" : "length", in.u.shape[i],
                      "u.shape[" + S(i) + "]");
  check::dim_equals(in.A, "A", 0, "channels", p.dim, "u.shape[1]");
  check::dim_range(in.A, "A", 1, "state", 1, 256);
  p.dstate = in.A.shape[1];

  int64_t groups = 0;
  p.B_varying = scan_bc(in.B, "B", p, &groups);
  p.C_varying = scan_bc(in.C, "C", p, &groups);
  p.groups = groups > 0 ? groups : 1;
  p.B = in.B;
  p.C = in.C;

  per_channel(in.D, "options.D", p.dim, in.u);
  per_channel(in.delta_bias, "options.deltaBias", p.dim, in.u);
  p.D = or_empty(in.D);
  p.delta_bias = or_empty(in.delta_bias);
  if (in.z) {
    check::tensor(*in.z, "options.z", 3, kFloats);
    check::same_dtype(in.u, "u", *in.z, "options.z");
    check::same_device(in.u, "u", *in.z, "options.z");
    for (int i = 0; i < 3; ++i)
      check::dim_equals(*in.z, "options.z", i, i == 0 ? "batch" : i == 1 ? "channels" : "length", in.u.shape[i],
                        "u.shape[" + S(i) + "]");
  }
  p.z = or_empty(in.z);
  p.softplus = in.softplus;
  p.seqs = sequences(in.cu_seqlens, p.batch, p.len, "u");
  cuda_grid(in.u, int64_t(p.seqs.size()), "the number of sequences (u.shape[0], or those of options.cuSeqlens)");
  if (in.initial_state) {
    check::tensor(*in.initial_state, "options.initialState", 3, {DType::F32});
    check::same_device(in.u, "u", *in.initial_state, "options.initialState");
    int64_t s[3];
    selective_scan_state_shape(p, s);
    state_shape_check(*in.initial_state, "options.initialState", s,
                      in.cu_seqlens ? "[sequences, d, N]" : "[b, d, N]");
  }
  p.initial_state = or_empty(in.initial_state);
  return p;
}

void selective_scan_out_shape(const SelectiveScanParams& p, int64_t s[3]) {
  s[0] = p.batch;
  s[1] = p.dim;
  s[2] = p.len;
}

void selective_scan_state_shape(const SelectiveScanParams& p, int64_t s[3]) {
  s[0] = int64_t(p.seqs.size());
  s[1] = p.dim;
  s[2] = p.dstate;
}

void selective_scan_bind_outputs(SelectiveScanParams& p, const TensorView& out, const TensorView* last) {
  int64_t s[3];
  selective_scan_out_shape(p, s);
  check::written(out, "options.out", p.u.dtype, 3, s, "output", "u.shape", p.u, "u");
  const std::initializer_list<check::Named> inputs = {
      {&p.u, "u"},       {&p.delta, "delta"},     {&p.A, "A"},
      {&p.B, "B"},       {&p.C, "C"},             {&p.D, "options.D"},
      {&p.z, "options.z"}, {&p.delta_bias, "options.deltaBias"}, {&p.initial_state, "options.initialState"}};
  check::no_overlap(out, "options.out", inputs);
  p.out = out;
  p.last_state = TensorView{};
  if (last) {
    // Written while the initial state is read: not in place, and shared with nothing.
    selective_scan_state_shape(p, s);
    check::written(*last, "lastState", DType::F32, 3, s, "state", "the state shape", p.u, "u");
    check::no_overlap(*last, "lastState", inputs);
    check::no_overlap(*last, "lastState", p.out, "options.out");
    p.last_state = *last;
  }
}

void selective_scan_run(const SelectiveScanParams& p) {
  if (p.u.device.kind == DeviceKind::CPU) return cpu::selective_scan(p);
  cuda::selective_scan(p);
}

// ---------------------------------------------------------------- state update

StateUpdateParams state_update_prepare(const StateUpdateInputs& in) {
  check::tensor(in.state, "state", 3, {DType::F32});
  check::tensor(in.x, "x", 2, kFloats);
  check::tensor(in.dt, "dt", 2, kFloats);
  check::same_dtype(in.x, "x", in.dt, "dt");
  check::tensor(in.A, "A", 2, {DType::F32});
  const TensorView* all[] = {&in.x, &in.dt, &in.A, &in.B, &in.C};
  const char* names[] = {"x", "dt", "A", "B", "C"};
  for (int i = 0; i < 5; ++i) check::same_device(in.state, "state", *all[i], names[i]);

  StateUpdateParams p;
  p.batch = in.x.shape[0];
  p.dim = in.x.shape[1];
  check::dim_equals(in.dt, "dt", 0, "batch", p.batch, "x.shape[0]");
  check::dim_equals(in.dt, "dt", 1, "channels", p.dim, "x.shape[1]");
  check::dim_equals(in.A, "A", 0, "channels", p.dim, "x.shape[1]");
  check::dim_range(in.A, "A", 1, "state", 1, 256);
  p.dstate = in.A.shape[1];
  check::dim_equals(in.state, "state", 1, "channels", p.dim, "x.shape[1]");
  check::dim_equals(in.state, "state", 2, "state", p.dstate, "A.shape[1]");

  // B and C: [b, G, N], or [b, N] for one group.
  int64_t groups = 0;
  const TensorView* bc[] = {&in.B, &in.C};
  const char* bcn[] = {"B", "C"};
  TensorView views[2];
  for (int i = 0; i < 2; ++i) {
    TensorView t = *bc[i];
    if (t.ndim == 2) {  // [b, N] -> [b, 1, N]
      check::tensor(t, bcn[i], 2, kFloats);
      t.ndim = 3;
      t.shape[2] = t.shape[1];
      t.stride[2] = t.stride[1];
      t.shape[1] = 1;
      t.stride[1] = 0;
    } else if (t.ndim != 3) {
      range_error(std::string(bcn[i]) + " must be [b, G, N] or [b, N], got shape " + check::shape_str(t));
    }
    check::tensor(t, bcn[i], 3, kFloats);
    check::dim_equals(t, bcn[i], 0, "batch", p.batch, "x.shape[0]");
    check::dim_equals(t, bcn[i], 2, "state", p.dstate, "A.shape[1]");
    if (groups > 0) check::dim_equals(t, bcn[i], 1, "groups", groups, "B's group count");
    groups = t.shape[1];
    if (p.dim % groups != 0)
      range_error(std::string(bcn[i]) + " groups = " + S(groups) + " must divide x.shape[1] (channels) = " + S(p.dim));
    views[i] = t;
  }
  p.B = views[0];
  p.C = views[1];
  p.groups = groups;

  per_channel(in.D, "options.D", p.dim, in.x);
  per_channel(in.dt_bias, "options.dtBias", p.dim, in.x);
  if (in.z) {
    check::tensor(*in.z, "options.z", 2, kFloats);
    check::same_dtype(in.x, "x", *in.z, "options.z");
    check::same_device(in.x, "x", *in.z, "options.z");
    check::dim_equals(*in.z, "options.z", 0, "batch", p.batch, "x.shape[0]");
    check::dim_equals(*in.z, "options.z", 1, "channels", p.dim, "x.shape[1]");
  }
  p.state = in.state;
  p.x = in.x;
  p.dt = in.dt;
  p.A = in.A;
  p.D = or_empty(in.D);
  p.z = or_empty(in.z);
  p.dt_bias = or_empty(in.dt_bias);
  p.softplus = in.softplus;
  // The state is written in place: its slots must not share memory with each other or an input.
  check::no_self_overlap(p.state, "state");
  for (auto [t, n] : {std::pair{&p.x, "x"}, {&p.dt, "dt"}, {&p.A, "A"}, {&p.B, "B"}, {&p.C, "C"}, {&p.D, "options.D"},
                      {&p.z, "options.z"}, {&p.dt_bias, "options.dtBias"}})
    check::no_overlap(p.state, "state", *t, n);
  if (in.state_indices) check::no_overlap(p.state, "state", *in.state_indices, "options.stateIndices");
  p.slots = slots(in.state_indices, p.batch, in.state.shape[0], "state");
  cuda_grid(in.x, p.batch, "x.shape[0] (batch)");
  return p;
}

void state_update_out_shape(const StateUpdateParams& p, int64_t s[2]) {
  s[0] = p.batch;
  s[1] = p.dim;
}

void state_update_bind_output(StateUpdateParams& p, const TensorView& out) {
  int64_t s[2];
  state_update_out_shape(p, s);
  check::written(out, "options.out", p.x.dtype, 2, s, "output", "x.shape", p.x, "x");
  check::no_overlap(out, "options.out",
                    {{&p.state, "state"}, {&p.x, "x"}, {&p.dt, "dt"}, {&p.A, "A"}, {&p.B, "B"}, {&p.C, "C"},
                     {&p.D, "options.D"}, {&p.z, "options.z"}, {&p.dt_bias, "options.dtBias"}});
  p.out = out;
}

void state_update_run(const StateUpdateParams& p) {
  if (p.x.device.kind == DeviceKind::CPU) return cpu::selective_state_update(p);
  cuda::selective_state_update(p);
}

// ---------------------------------------------------------------- causal conv1d

static void conv_weight(const TensorView& w, const TensorView* bias, int64_t dim, const TensorView& x) {
  check::tensor(w, "weight", 2, kFloats);
  check::same_device(x, "x", w, "weight");
  check::dim_equals(w, "weight", 0, "channels", dim, "x.shape[1]");
  check::dim_range(w, "weight", 1, "width", 2, 8);
  if (bias) {
    check::tensor(*bias, "options.bias", 1, kFloats);
    check::same_device(x, "x", *bias, "options.bias");
    check::dim_equals(*bias, "options.bias", 0, "channels", dim, "x.shape[1]");
  }
}

Conv1dParams conv1d_prepare(const Conv1dInputs& in) {
  check::tensor(in.x, "x", 3, kFloats);
  Conv1dParams p;
  p.batch = in.x.shape[0];
  p.dim = in.x.shape[1];
  p.len = in.x.shape[2];
  conv_weight(in.weight, in.bias, p.dim, in.x);
  p.width = in.weight.shape[1];
  p.x = in.x;
  p.weight = in.weight;
  p.bias = or_empty(in.bias);
  p.silu = in.silu;
  p.seqs = sequences(in.cu_seqlens, p.batch, p.len, "x");
  cuda_grid(in.x, p.dim, "x.shape[1] (channels)");
  cuda_grid(in.x, int64_t(p.seqs.size()), "the number of sequences (x.shape[0], or those of options.cuSeqlens)");
  if (in.initial_states) {
    check::tensor(*in.initial_states, "options.initialStates", 3, {in.x.dtype});
    check::same_device(in.x, "x", *in.initial_states, "options.initialStates");
    int64_t s[3];
    conv1d_state_shape(p, s);
    for (int i = 0; i < 3; ++i)
      check::dim_equals(*in.initial_states, "options.initialStates", i,
                        i == 0 ? "sequences" : i == 1 ? "channels" : "width - 1", s[i], "the state shape");
  }
  p.initial_states = or_empty(in.initial_states);
  return p;
}

void conv1d_out_shape(const Conv1dParams& p, int64_t s[3]) {
  s[0] = p.batch;
  s[1] = p.dim;
  s[2] = p.len;
}

void conv1d_state_shape(const Conv1dParams& p, int64_t s[3]) {
  s[0] = int64_t(p.seqs.size());
  s[1] = p.dim;
  s[2] = p.width - 1;
}

void conv1d_bind_outputs(Conv1dParams& p, const TensorView& out, const TensorView* fin) {
  int64_t s[3];
  conv1d_out_shape(p, s);
  check::written(out, "options.out", p.x.dtype, 3, s, "output", "x.shape", p.x, "x");
  const std::initializer_list<check::Named> inputs = {
      {&p.x, "x"}, {&p.weight, "weight"}, {&p.bias, "options.bias"}, {&p.initial_states, "options.initialStates"}};
  check::no_overlap(out, "options.out", inputs);
  p.out = out;
  p.final_states = TensorView{};
  if (fin) {
    // The kernels read the initial states while other blocks write the final ones:
    // the final states may not be updated in place (nor share memory with anything).
    conv1d_state_shape(p, s);
    check::written(*fin, "finalStates", p.x.dtype, 3, s, "state", "the state shape", p.x, "x");
    check::no_overlap(*fin, "finalStates", inputs);
    check::no_overlap(*fin, "finalStates", p.out, "options.out");
    p.final_states = *fin;
  }
}

void conv1d_run(const Conv1dParams& p) {
  if (p.x.device.kind == DeviceKind::CPU) return cpu::causal_conv1d(p);
  cuda::causal_conv1d(p);
}

// ---------------------------------------------------------------- conv1d update

// [b, d] -> [b, d, 1] so one kernel serves both ranks.
static TensorView as_steps(TensorView t) {
  if (t.ndim == 2) {
    t.ndim = 3;
    t.shape[2] = 1;
    t.stride[2] = 1;
  }
  return t;
}

Conv1dUpdateParams conv1d_update_prepare(const Conv1dUpdateInputs& in) {
  if (in.x.ndim != 2 && in.x.ndim != 3)
    range_error("x must be [b, d] or [b, d, T], got shape " + check::shape_str(in.x));
  check::tensor(in.x, "x", in.x.ndim, kFloats);
  check::tensor(in.conv_state, "convState", 3, {in.x.dtype});
  check::same_device(in.x, "x", in.conv_state, "convState");
  Conv1dUpdateParams p;
  p.x_ndim = in.x.ndim;
  p.x = as_steps(in.x);
  p.batch = p.x.shape[0];
  p.dim = p.x.shape[1];
  p.steps = p.x.shape[2];
  conv_weight(in.weight, in.bias, p.dim, in.x);
  p.width = in.weight.shape[1];
  check::dim_equals(in.conv_state, "convState", 1, "channels", p.dim, "x.shape[1]");
  if (in.conv_state.shape[2] < p.width - 1)
    range_error("convState.shape[2] (state length) must be >= weight.shape[1] - 1 = " + S(p.width - 1) + ", got " +
                S(in.conv_state.shape[2]));
  p.state_len = in.conv_state.shape[2];
  p.conv_state = in.conv_state;
  p.weight = in.weight;
  p.bias = or_empty(in.bias);
  p.silu = in.silu;
  check::no_self_overlap(p.conv_state, "convState");
  for (auto [t, n] : {std::pair{&p.x, "x"}, {&p.weight, "weight"}, {&p.bias, "options.bias"}})
    check::no_overlap(p.conv_state, "convState", *t, n);
  if (in.state_indices) check::no_overlap(p.conv_state, "convState", *in.state_indices, "options.stateIndices");
  p.slots = slots(in.state_indices, p.batch, in.conv_state.shape[0], "convState");
  cuda_grid(in.x, p.batch, "x.shape[0] (batch)");
  return p;
}

void conv1d_update_out_shape(const Conv1dUpdateParams& p, int64_t s[3]) {
  s[0] = p.batch;
  s[1] = p.dim;
  s[2] = p.steps;
}

void conv1d_update_bind_output(Conv1dUpdateParams& p, const TensorView& out) {
  check::written(out, "options.out", p.x.dtype, p.x_ndim, p.x.shape, "output", "x.shape", p.x, "x");
  check::no_overlap(out, "options.out",
                    {{&p.conv_state, "convState"}, {&p.x, "x"}, {&p.weight, "weight"}, {&p.bias, "options.bias"}});
  p.out = as_steps(out);
}

void conv1d_update_run(const Conv1dUpdateParams& p) {
  if (p.x.device.kind == DeviceKind::CPU) return cpu::causal_conv1d_update(p);
  cuda::causal_conv1d_update(p);
}

}  // namespace subq
