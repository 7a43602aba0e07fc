// mergeAttentionStates(o1, lse1, o2, lse2, options) and its Sync twin: marshalling only.
#include "../ops/merge.h"

#include "async.h"
#include "registry.h"

namespace subq::napi {

static Napi::Value merge_states(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  return guarded(env, async, [&]() -> Napi::Value {
    TensorView o1 = to_view(info[0], "o1"), lse1 = to_view(info[1], "lse1");
    TensorView o2 = to_view(info[2], "o2"), lse2 = to_view(info[3], "lse2");
    const std::string o = "options";
    Napi::Object opts = as_object(info[4], o);
    MergeParams p = merge_prepare(o1, lse1, o2, lse2, opt_layout(opts, o));

    int64_t s[4];
    merge_out_shape(p, s);
    TensorView out, lse;
    Napi::Value out_js = out_or_new(env, opts, p.o1.device, p.o1.dtype, s, 4, &out);
    int64_t l[3];
    merge_lse_shape(p, l);
    Napi::Value lse_js = new_tensor(env, p.o1.device, DType::F32, l, 3, &lse);
    merge_bind_outputs(p, out, lse);

    OpCall call;
    call.keep_alive = {info[0], info[1], info[2], info[3], out_js, lse_js};
    call.work = [p] { merge_run(p); };
    call.result = result_pair(4, 5, true, "out", "lse");
    return run_op(env, async, std::move(call));
  });
}

SUBQ_EXPORTS(merge) {
  exports.Set("mergeAttentionStates",
              Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return merge_states(i, true); }));
  exports.Set("mergeAttentionStatesSync",
              Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return merge_states(i, false); }));
}

}  // namespace subq::napi
