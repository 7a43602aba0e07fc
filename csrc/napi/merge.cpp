// mergeAttentionStates(o1, lse1, o2, lse2, options) and its Sync twin: marshalling only.
#include "../ops/merge.h"

#include "call.h"
#include "registry.h"

namespace subq::napi {

static Napi::Value merge_states(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  return guarded(env, async, [&]() -> Napi::Value {
    Call c(env, async);
    TensorView &o1 = c.tensor(info[0], "o1"), &lse1 = c.tensor(info[1], "lse1");
    TensorView &o2 = c.tensor(info[2], "o2"), &lse2 = c.tensor(info[3], "lse2");
    const std::string o = "options";
    Napi::Object opts = as_object(info[4], o);
    const Layout layout = opt_layout(opts, o);
    TensorView* out = c.opt_tensor(opts, "out", true);
    c.attach();

    MergeParams p = merge_prepare(o1, lse1, o2, lse2, layout);
    int64_t s[4], l[3];
    merge_out_shape(p, s);
    merge_lse_shape(p, l);
    const size_t io = out ? c.index(out) : c.output(p.o1.device, p.o1.dtype, s, 4, &out);
    TensorView* lse = nullptr;
    const size_t il = c.output(p.o1.device, DType::F32, l, 3, &lse);
    auto bind = [&] {
      p = merge_prepare(o1, lse1, o2, lse2, layout);
      merge_bind_outputs(p, *out, *lse);
    };
    bind();
    if (c.stage()) bind();
    return c.run([p] { merge_run(p); }, result_pair(io, il, true, "out", "lse"));
  });
}

SUBQ_EXPORTS(merge) {
  exports.Set("mergeAttentionStates",
              Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return merge_states(i, true); }));
  exports.Set("mergeAttentionStatesSync",
              Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return merge_states(i, false); }));
}

}  // namespace subq::napi
