#include "merge.h"

#include <string>

#include "../cpu/merge.h"
#include "../cuda/backend.h"
#include "check.h"

namespace subq {

// lse [B, H, N] must match the [B, H, N, D] view o.
static void check_lse(const TensorView& lse, const char* name, const TensorView& o, const char* oname) {
  check::tensor(lse, name, 3, {DType::F32});
  const char* what[3] = {"batch", "heads", "length"};
  for (int i = 0; i < 3; ++i)
    check::dim_equals(lse, name, i, what[i], o.shape[i], std::string(oname) + "'s " + what[i]);
}

MergeParams merge_prepare(const TensorView& o1, const TensorView& lse1, const TensorView& o2, const TensorView& lse2,
                          Layout layout) {
  const auto floats = {DType::F32, DType::F16, DType::BF16};
  check::tensor(o1, "o1", 4, floats);
  check::tensor(o2, "o2", 4, floats);
  check::same_dtype(o1, "o1", o2, "o2");
  check::same_device(o1, "o1", o2, "o2");
  check::same_device(o1, "o1", lse1, "lse1");
  check::same_device(o1, "o1", lse2, "lse2");
  for (int i = 0; i < 4; ++i) check::dim_equals(o2, "o2", i, "shape", o1.shape[i], "o1.shape[" + std::to_string(i) + "]");
  MergeParams p;
  p.layout = layout;
  p.o1 = as_bhnd(o1, layout);
  p.o2 = as_bhnd(o2, layout);
  check_lse(lse1, "lse1", p.o1, "o1");
  check_lse(lse2, "lse2", p.o1, "o1");
  p.lse1 = lse1;
  p.lse2 = lse2;
  p.B = p.o1.shape[0];
  p.H = p.o1.shape[1];
  p.N = p.o1.shape[2];
  p.D = p.o1.shape[3];
  return p;
}

void merge_out_shape(const MergeParams& p, int64_t s[4]) { layout_shape(p.layout, p.B, p.H, p.N, p.D, s); }

void merge_lse_shape(const MergeParams& p, int64_t s[3]) {
  s[0] = p.B;
  s[1] = p.H;
  s[2] = p.N;
}

void merge_bind_outputs(MergeParams& p, const TensorView& out, const TensorView& lse) {
  int64_t s[4];
  merge_out_shape(p, s);
  check::written(out, "options.out", p.o1.dtype, 4, s, "output", "the output shape", p.o1, "o1");
  // out = o1 itself is documented (each row is read before it is written).
  p.out = as_bhnd(out, p.layout);
  check::no_overlap(p.out, "options.out", p.o1, "o1", true);
  check::no_overlap(p.out, "options.out", {{&p.o2, "o2"}, {&p.lse1, "lse1"}, {&p.lse2, "lse2"}});
  int64_t l[3];
  merge_lse_shape(p, l);
  check::written(lse, "lse", DType::F32, 3, l, "lse", "the lse shape", p.o1, "o1");
  check::no_overlap(lse, "lse", {{&p.lse1, "lse1"}, {&p.lse2, "lse2"}, {&p.o1, "o1"}, {&p.o2, "o2"}, {&p.out, "options.out"}});
  p.lse = lse;
}

void merge_run(const MergeParams& p) {
  if (p.o1.device.kind == DeviceKind::CPU) return cpu::merge_states(p);
  cuda::merge_states(p);
}

}  // namespace subq
