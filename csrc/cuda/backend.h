// What the rest of the package may ask of the CUDA backend. When the package is
// built without CUDA these report zero devices and refuse to run.
#pragma once
#include <string>
#include <vector>

#include "../ops/attention.h"

namespace subq::cuda {

struct DeviceInfo {
  int index = 0;
  std::string name;
  int major = 0, minor = 0;
  size_t total_memory = 0;
  int multiprocessors = 0;
};

struct Info {
  bool compiled = false;       // the package was built with the CUDA backend
  int runtime_version = 0;     // e.g. 13000; 0 when not compiled
  int driver_version = 0;      // 0 when no driver is installed
  std::string error;           // why no device is usable, if none is
  std::vector<DeviceInfo> devices;
};

Info info();
void attention(const AttentionParams& p);

}  // namespace subq::cuda
