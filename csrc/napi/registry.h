// Each napi/<family>.cpp registers its exports with SUBQ_EXPORTS, so adding a
// family never touches a central list.
#pragma once
#include <napi.h>

namespace subq::napi {

using Registrar = void (*)(Napi::Env, Napi::Object);
int add_registrar(Registrar r);
void register_all(Napi::Env env, Napi::Object exports);

}  // namespace subq::napi

#define SUBQ_EXPORTS(name)                                                              \
  static void subq_register_##name(Napi::Env, Napi::Object);                            \
  static const int subq_registered_##name = ::subq::napi::add_registrar(subq_register_##name); \
  static void subq_register_##name(Napi::Env env, Napi::Object exports)
