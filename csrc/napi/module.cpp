#include <vector>

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

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  subq::napi::register_all(env, exports);
  return exports;
}

NODE_API_MODULE(subquadratic, Init)
