// backendInfo(), thread and SIMD controls.
#include <string>
#include <vector>

#include "../core/cpu_features.h"
#include "../core/env_warnings.h"
#include "../core/thread_pool.h"
#include "../cpu/attention.h"
#include "../cpu/planner.h"
#include "../cpu/vector_width.h"
#include "../cuda/backend.h"
#include "marshal.h"
#include "registry.h"

namespace subq::napi {

static Napi::Value backend_info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object r = Napi::Object::New(env);
  Napi::Object cpu = Napi::Object::New(env);
  const CpuFeatures& f = cpu_features();
  cpu.Set("simd", simd_level_name(simd_level()));
  cpu.Set("vectorBits", cpu::vector_bits());
  cpu.Set("threads", ThreadPool::instance().num_threads());
  cpu.Set("hardwareThreads", hardware_threads());
  cpu.Set("attentionBf16", cpu::attention_bf16_path());
  Napi::Object plan = Napi::Object::New(env);
  for (const cpu::PlanEntry& e : cpu::plan_report()) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("value", e.value.empty() ? env.Null() : Napi::String::New(env, e.value));
    o.Set("source", e.source);
    Napi::Array c = Napi::Array::New(env, e.candidates.size());
    for (size_t i = 0; i < e.candidates.size(); ++i) c.Set(uint32_t(i), e.candidates[i]);
    o.Set("candidates", c);
    plan.Set(e.name, o);
  }
  cpu.Set("plan", plan);
  Napi::Object feat = Napi::Object::New(env);
  feat.Set("avx2", f.avx2);
  feat.Set("fma", f.fma);
  feat.Set("f16c", f.f16c);
  feat.Set("avx512f", f.avx512f);
  feat.Set("avx512bw", f.avx512bw);
  feat.Set("avx512vl", f.avx512vl);
  feat.Set("avx512dq", f.avx512dq);
  feat.Set("avx512bf16", f.avx512bf16);
  feat.Set("avx512vnni", f.avx512vnni);
  cpu.Set("features", feat);
  r.Set("cpu", cpu);

  cuda::Info ci = cuda::info();
  Napi::Object cu = Napi::Object::New(env);
  cu.Set("compiled", ci.compiled);
  cu.Set("runtimeVersion", ci.runtime_version);
  cu.Set("driverVersion", ci.driver_version);
  if (!ci.error.empty()) cu.Set("error", ci.error);
  Napi::Array devs = Napi::Array::New(env, ci.devices.size());
  for (size_t i = 0; i < ci.devices.size(); ++i) {
    const auto& d = ci.devices[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("index", d.index);
    o.Set("name", d.name);
    o.Set("computeCapability", std::to_string(d.major) + "." + std::to_string(d.minor));
    o.Set("totalMemory", double(d.total_memory));
    o.Set("freeMemory", double(d.free_memory));
    o.Set("multiprocessors", d.multiprocessors);
    devs.Set(uint32_t(i), o);
  }
  cu.Set("devices", devs);
  r.Set("cuda", cu);
  return r;
}

static Napi::Value set_num_threads(const Napi::CallbackInfo& info) {
  try {
    ThreadPool::instance().set_num_threads(to_threads(info[0]));
  } catch (const Error& e) {
    throw_js(info.Env(), e);
  }
  return info.Env().Undefined();
}

static Napi::Value set_simd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "level must be 'scalar', 'avx2' or 'avx512'");
  std::string s = info[0].As<Napi::String>().Utf8Value();
  SimdLevel l;
  if (s == "scalar") l = SimdLevel::Scalar;
  else if (s == "avx2") l = SimdLevel::AVX2;
  else if (s == "avx512") l = SimdLevel::AVX512;
  else throw Napi::RangeError::New(env, "level must be 'scalar', 'avx2' or 'avx512', got '" + s + "'");
  set_simd_level(l);
  return Napi::String::New(env, simd_level_name(simd_level()));
}

static Napi::Value set_vector_width(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Value v = info[0];
  if (v.IsString() && v.As<Napi::String>().Utf8Value() == "auto") cpu::set_vector_width(cpu::VectorWidth::Auto);
  else if (v.IsNumber() && v.As<Napi::Number>().DoubleValue() == 256) cpu::set_vector_width(cpu::VectorWidth::W256);
  else if (v.IsNumber() && v.As<Napi::Number>().DoubleValue() == 512) cpu::set_vector_width(cpu::VectorWidth::W512);
  else throw Napi::TypeError::New(env, "bits must be 256, 512 or 'auto'");
  return Napi::Number::New(env, cpu::vector_bits());
}

// setPlan(name, value): a planner choice forced to a candidate, or 'auto' to measure;
// returns the value in effect (measuring if need be).
static Napi::Value set_plan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "name must be a string: one of " + cpu::plan_names());
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  cpu::PlanChoice* c = cpu::plan_choice(name);
  if (!c) throw Napi::RangeError::New(env, "name must be one of " + cpu::plan_names() + ", got '" + name + "'");
  std::string expected;
  for (const char* v : c->candidates()) expected.append("'").append(v).append("', ");
  expected = "value must be " + expected + "or 'auto' for " + name;
  if (!info[1].IsString()) throw Napi::TypeError::New(env, expected);
  const std::string value = info[1].As<Napi::String>().Utf8Value();
  const int i = c->find(value);
  if (i < 0 && value != "auto") throw Napi::RangeError::New(env, expected + ", got '" + value + "'");
  c->set(i);
  return Napi::String::New(env, c->candidates()[size_t(c->get())]);
}

// envWarnings(): the SUBQ_* environment settings that were ignored (each read once).
static Napi::Value env_warnings_js(const Napi::CallbackInfo& info) {
  // Reading the settings parses every variable first.
  (void)simd_level();
  (void)ThreadPool::instance().num_threads();
  (void)cpu::vector_bits();
  (void)cpu::attention_bf16_path();
  cpu::plan_check_env();
  const std::vector<std::string> w = env_warnings();
  Napi::Array a = Napi::Array::New(info.Env(), w.size());
  for (size_t i = 0; i < w.size(); ++i) a.Set(uint32_t(i), w[i]);
  return a;
}

#ifndef SUBQ_VERSION
#define SUBQ_VERSION "unknown"  // a build that did not pass the package version
#endif

SUBQ_EXPORTS(info) {
  // Identifies the binary, so an install can tell a prebuild of this version from others.
  exports.Set("version", Napi::String::New(env, SUBQ_VERSION));
  exports.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  exports.Set("envWarnings", Napi::Function::New(env, env_warnings_js));
  exports.Set("setVectorWidth", Napi::Function::New(env, set_vector_width));
  exports.Set("backendInfo", Napi::Function::New(env, backend_info));
  exports.Set("setNumThreads", Napi::Function::New(env, set_num_threads));
  exports.Set("setSimdLevel", Napi::Function::New(env, set_simd));
  exports.Set("setPlan", Napi::Function::New(env, set_plan));
}

}  // namespace subq::napi
