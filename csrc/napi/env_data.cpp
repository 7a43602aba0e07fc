#include "env_data.h"

#include "registry.h"

namespace subq::napi {

EnvData& env_data(Napi::Env env) {
  if (EnvData* d = env.GetInstanceData<EnvData>()) return *d;
  auto* d = new EnvData();
  env.SetInstanceData(d);  // deleted with the environment
  // Cleanup hooks run before instance data is freed: the flag outlives it (shared).
  auto* flag = new std::shared_ptr<std::atomic<bool>>(d->closing);
  napi_add_env_cleanup_hook(
      env,
      [](void* p) {
        auto* f = static_cast<std::shared_ptr<std::atomic<bool>>*>(p);
        (*f)->store(true);
        delete f;
      },
      flag);
  return *d;
}

// shutdown(): cancels this environment's calls in flight. lib/native.ts calls it
// on process 'exit', as process.exit() ends the process without running the
// environment's cleanup hooks but waits for the libuv pool.
SUBQ_EXPORTS(env_data) {
  exports.Set("shutdown", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    env_data(info.Env()).closing->store(true);
    return info.Env().Undefined();
  }));
}

}  // namespace subq::napi
