#include <vector>

#if !defined(_WIN32)
#include <dlfcn.h>
#endif

#include "registry.h"

namespace subq::napi {

static std::vector<Registrar>& registrars() {
  static std::vector<Registrar> list;
  return list;
}

int add_registrar(Registrar r) {
  registrars().push_back(r);
  return 0;
}

void register_all(Napi::Env env, Napi::Object exports) {
  for (Registrar r : registrars()) r(env, exports);
}

}  // namespace subq::napi

#if !defined(_WIN32)
// The CPU pool's threads are process-wide and outlive any one environment, but Node
// dlcloses an addon when the last environment that loaded it ends (a worker that was
// the only user): that unmapped the code those threads run. The library stays
// loaded for the life of the process.
static void pin_library() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&pin_library), &info) && info.dli_fname)
    dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}
#else
static void pin_library() {}
#endif

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  pin_library();
  subq::napi::register_all(env, exports);
  return exports;
}

NODE_API_MODULE(subquadratic, Init)
