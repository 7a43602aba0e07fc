#include "env_data.h"

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

}  // namespace subq::napi
