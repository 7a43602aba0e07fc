// Kernel arguments from validated op parameters (host code, no CUDA runtime): used by
// the launches in ssm.cu and by the emulated native tests. `table` is the device copy of
// the sequence table (sequence_table) or of the slots.
#pragma once
#include <type_traits>
#include <vector>

#include "../core/ssm_params.h"
#include "ssm.cuh"

namespace subq::cuda::ssm {

inline ElemPtr elem_ptr(const TensorView& t) { return ElemPtr{t.data, elem_of(t.dtype)}; }

// The state update's threads per channel: the smallest power of two >= N, at most a warp.
inline int update_lanes(int64_t dstate) {
  int lanes = 1;
  while (lanes < 32 && lanes < dstate) lanes *= 2;
  return lanes;
}

// [sequences][4]: batch, start, length, state slot.
inline std::vector<int64_t> sequence_table(const std::vector<SsmSequence>& seqs) {
  std::vector<int64_t> t;
  for (const SsmSequence& s : seqs) t.insert(t.end(), {s.batch, s.start, s.len, s.slot});
  return t;
}

inline ScanArgs scan_args(const SelectiveScanParams& p, const int64_t* table) {
  ScanArgs a{};
  a.u = p.u.data;
  a.delta = p.delta.data;
  a.z = p.z.data;
  a.out = p.out.data;
  a.u_s0 = p.u.stride[0], a.u_s1 = p.u.stride[1];
  a.dl_s0 = p.delta.stride[0], a.dl_s1 = p.delta.stride[1];
  a.z_s0 = p.z.stride[0], a.z_s1 = p.z.stride[1];
  a.o_s0 = p.out.stride[0], a.o_s1 = p.out.stride[1];
  a.A = p.A.ptr<float>();
  a.A_s0 = p.A.stride[0];
  a.B = elem_ptr(p.B);
  a.C = elem_ptr(p.C);
  for (int i = 0; i < 4; ++i) a.B_s[i] = p.B.stride[i], a.C_s[i] = p.C.stride[i];
  a.softplus = p.softplus;
  a.D = p.D.ptr<float>();
  a.bias = p.delta_bias.ptr<float>();
  a.init = p.initial_state.ptr<float>();
  a.init_s0 = p.initial_state.stride[0], a.init_s1 = p.initial_state.stride[1];
  a.last = p.last_state.ptr<float>();
  a.last_s0 = p.last_state.stride[0], a.last_s1 = p.last_state.stride[1];
  a.seqs = table;
  a.dstate = p.dstate;
  a.dpg = p.dim / p.groups;
  return a;
}

inline UpdateArgs update_args(const StateUpdateParams& p, const int64_t* table) {
  UpdateArgs a{};
  a.state = p.state.ptr<float>();
  a.st_s0 = p.state.stride[0], a.st_s1 = p.state.stride[1];
  a.x = p.x.data;
  a.dt = p.dt.data;
  a.z = p.z.data;
  a.out = p.out.data;
  a.x_s0 = p.x.stride[0], a.dt_s0 = p.dt.stride[0], a.z_s0 = p.z.stride[0], a.o_s0 = p.out.stride[0];
  a.A = p.A.ptr<float>();
  a.A_s0 = p.A.stride[0];
  a.B = elem_ptr(p.B);
  a.C = elem_ptr(p.C);
  a.B_s0 = p.B.stride[0], a.B_s1 = p.B.stride[1], a.C_s0 = p.C.stride[0], a.C_s1 = p.C.stride[1];
  a.D = p.D.ptr<float>();
  a.bias = p.dt_bias.ptr<float>();
  a.slots = table;
  a.dim = p.dim;
  a.dstate = p.dstate;
  a.dpg = p.dim / p.groups;
  a.lanes = update_lanes(p.dstate);
  a.softplus = p.softplus;
  return a;
}

inline ConvArgs conv_args(const Conv1dParams& p, const int64_t* table) {
  ConvArgs a{};
  a.x = p.x.data;
  a.out = p.out.data;
  a.x_s0 = p.x.stride[0], a.x_s1 = p.x.stride[1], a.o_s0 = p.out.stride[0], a.o_s1 = p.out.stride[1];
  a.weight = elem_ptr(p.weight);
  a.bias = elem_ptr(p.bias);
  a.w_s0 = p.weight.stride[0];
  a.width = p.width;
  a.init = p.initial_states.data;
  a.fin = p.final_states.data;
  a.init_s0 = p.initial_states.stride[0], a.init_s1 = p.initial_states.stride[1];
  a.fin_s0 = p.final_states.stride[0], a.fin_s1 = p.final_states.stride[1];
  a.seqs = table;
  a.silu = p.silu;
  return a;
}

inline ConvUpdateArgs conv_update_args(const Conv1dUpdateParams& p, const int64_t* table) {
  ConvUpdateArgs a{};
  a.x = p.x.data;
  a.out = p.out.data;
  a.state = p.conv_state.data;
  a.x_s0 = p.x.stride[0], a.x_s1 = p.x.stride[1], a.o_s0 = p.out.stride[0], a.o_s1 = p.out.stride[1];
  a.st_s0 = p.conv_state.stride[0], a.st_s1 = p.conv_state.stride[1];
  a.state_len = p.state_len;
  a.steps = p.steps;
  a.weight = elem_ptr(p.weight);
  a.bias = elem_ptr(p.bias);
  a.w_s0 = p.weight.stride[0];
  a.width = p.width;
  a.dim = p.dim;
  a.slots = table;
  a.silu = p.silu;
  return a;
}

// Launch shapes.
// The scan: tiles of kScanChannels channels (one warp each), kScanItems steps per lane,
// or kScanShortItems when no sequence is longer than a warp's chunk of those (the warp
// scan's cost then spread over fewer steps, but fewer lanes idle).
constexpr int kScanChannels = 8, kScanItems = 16, kScanShortItems = 8, kThreads = 128, kConvThreads = 256;

inline int scan_items(const SelectiveScanParams& p) {
  int64_t longest = 0;
  for (const SsmSequence& s : p.seqs) longest = s.len > longest ? s.len : longest;
  return longest <= 32 * kScanShortItems ? kScanShortItems : kScanItems;
}

// Calls f(kernel) with the scan kernel for p: element type, steps per lane, varying B / C.
template <class F>
void with_scan_kernel(const SelectiveScanParams& p, F&& f) {
  auto pick = [&](auto e, auto items) {
    constexpr Elem E = decltype(e)::value;
    constexpr int TC = kScanChannels, IT = decltype(items)::value;
    if (p.B_varying && p.C_varying) f(selective_scan_kernel<E, TC, IT, true, true>);
    else if (p.B_varying) f(selective_scan_kernel<E, TC, IT, true, false>);
    else if (p.C_varying) f(selective_scan_kernel<E, TC, IT, false, true>);
    else f(selective_scan_kernel<E, TC, IT, false, false>);
  };
  with_elem(p.u.dtype, [&](auto e) {
    if (scan_items(p) == kScanShortItems) pick(e, std::integral_constant<int, kScanShortItems>{});
    else pick(e, std::integral_constant<int, kScanItems>{});
  });
}

// Dynamic shared memory of the scan: within the 48 KB a launch gets without opting in.
inline int scan_smem(const SelectiveScanParams& p) {
  return int(scan_smem_bytes(kScanChannels, scan_items(p), p.B_varying, p.C_varying, p.dstate));
}
static_assert(scan_smem_bytes(kScanChannels, kScanItems, true, true, 256) <= 48 * 1024 &&
                  kScanShortItems < kScanItems,
              "the scan fits the shared memory a launch gets by default");

inline dim3 scan_grid(const SelectiveScanParams& p) {
  const int64_t dpg = p.dim / p.groups, tiles = (dpg + kScanChannels - 1) / kScanChannels;
  return dim3(unsigned(tiles * p.groups), unsigned(p.seqs.size()));
}
inline dim3 update_grid(const StateUpdateParams& p) {
  const int64_t channels = kThreads / update_lanes(p.dstate);  // per block
  return dim3(unsigned((p.dim + channels - 1) / channels), unsigned(p.batch));
}
inline dim3 conv_update_grid(const Conv1dUpdateParams& p) {
  return dim3(unsigned((p.dim + kThreads - 1) / kThreads), unsigned(p.batch));
}
inline dim3 conv_grid(const Conv1dParams& p) {
  int64_t longest = 1;
  for (const SsmSequence& s : p.seqs) longest = s.len > longest ? s.len : longest;
  const int64_t blocks = (longest + kConvThreads - 1) / kConvThreads;
  return dim3(unsigned(blocks < 1024 ? blocks : 1024), unsigned(p.dim), unsigned(p.seqs.size()));
}

}  // namespace subq::cuda::ssm
