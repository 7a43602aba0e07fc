// Machine figures for the benchmark suite.
#include "../cpu/peak.h"
#include "marshal.h"
#include "registry.h"

namespace subq::napi {

static double seconds_arg(const Napi::Value& v) {
  double s = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : 0.5;
  return s > 0 && s < 60 ? s : 0.5;
}

SUBQ_EXPORTS(bench) {
  exports.Set("fmaPeak", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    try {
      return Napi::Number::New(info.Env(), cpu::fma_peak_gflops(to_threads(info[0]), seconds_arg(info[1])));
    } catch (const Error& e) {
      throw_js(info.Env(), e);
    }
  }));
  exports.Set("copyBandwidth", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    try {
      return Napi::Number::New(info.Env(), cpu::copy_bandwidth_gbs(to_threads(info[0]), 64.0 * (1 << 20),
                                                                   seconds_arg(info[1])));
    } catch (const Error& e) {
      throw_js(info.Env(), e);
    }
  }));
}

}  // namespace subq::napi
