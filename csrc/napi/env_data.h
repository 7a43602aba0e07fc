// What the addon keeps per Node environment (the main thread and each worker):
// N-API instance data, so environments never share or race on it.
#pragma once
#include <napi.h>

#include <atomic>
#include <memory>

namespace subq::napi {

struct EnvData {
  Napi::FunctionReference device_buffer;  // the DeviceBuffer class
  // Set when the environment is torn down (process.exit, a worker's terminate()):
  // calls in flight stop at their next check and settle as cancelled.
  std::shared_ptr<std::atomic<bool>> closing = std::make_shared<std::atomic<bool>>(false);
};

// This environment's data, created on first use.
EnvData& env_data(Napi::Env env);

}  // namespace subq::napi
