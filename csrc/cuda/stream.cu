// One stream per device, created on first use and kept for the process. A single
// stream per device makes allocation, copies, kernels and frees one ordered
// sequence, which is what keeps stream-ordered frees safe without the host
// waiting. Per device also: a pool of events (fences reuse them instead of
// creating and destroying one per wait) and the host memory kept for work in
// flight (keep_until_done), dropped oldest first once its event has passed.
#include <cuda_runtime.h>

#include <deque>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "error.cuh"
#include "runtime.h"

namespace subq::cuda {

namespace {

struct Held {
  cudaEvent_t done;
  std::shared_ptr<const void> owner;
};

struct DeviceState {
  cudaStream_t stream = nullptr;
  std::vector<cudaEvent_t> events;  // recorded and passed: free for reuse
  std::deque<Held> held;            // in stream order
};

struct Registry {
  std::mutex mu;
  std::vector<std::unique_ptr<DeviceState>> devices;
  DeviceState& at(int device) {  // under mu
    if (devices.size() <= size_t(device)) devices.resize(size_t(device) + 1);
    if (!devices[size_t(device)]) devices[size_t(device)] = std::make_unique<DeviceState>();
    return *devices[size_t(device)];
  }
};
// Leaked on purpose: fences and finalizers may still run during static destruction.
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

cudaEvent_t take_event(int device) {
  {
    std::lock_guard<std::mutex> lock(registry().mu);
    std::vector<cudaEvent_t>& free = registry().at(device).events;
    if (!free.empty()) {
      cudaEvent_t e = free.back();
      free.pop_back();
      return e;
    }
  }
  // Blocking sync lets a waiting thread sleep instead of spin.
  cudaEvent_t e;
  check(cudaEventCreateWithFlags(&e, cudaEventBlockingSync | cudaEventDisableTiming), "cudaEventCreate", device);
  return e;
}

void give_event(int device, cudaEvent_t e) noexcept {
  try {
    std::lock_guard<std::mutex> lock(registry().mu);
    registry().at(device).events.push_back(e);
  } catch (...) {
    cudaEventDestroy(e);
  }
}

cudaEvent_t record(int device) {
  cudaStream_t s = stream(device);
  cudaEvent_t e = take_event(device);
  const cudaError_t r = cudaEventRecord(e, s);
  if (r != cudaSuccess) {
    give_event(device, e);
    check(r, "cudaEventRecord", device);
  }
  return e;
}

// Drops the owners whose work has finished (their destructors run here, outside
// the lock). After a fault the queue stops moving: a lost device keeps them.
void reclaim(int device) {
  std::vector<std::shared_ptr<const void>> done;
  {
    std::lock_guard<std::mutex> lock(registry().mu);
    DeviceState& d = registry().at(device);
    while (!d.held.empty() && cudaEventQuery(d.held.front().done) == cudaSuccess) {
      d.events.push_back(d.held.front().done);
      done.push_back(std::move(d.held.front().owner));
      d.held.pop_front();
    }
  }
}

}  // namespace

cudaStream_t stream(int device) {
  use_device(device);
  std::lock_guard<std::mutex> lock(registry().mu);
  DeviceState& d = registry().at(device);
  if (!d.stream) check(cudaStreamCreateWithFlags(&d.stream, cudaStreamNonBlocking), "cudaStreamCreate", device);
  return d.stream;
}

Fence& Fence::operator=(Fence&& o) noexcept {
  if (this != &o) {
    if (event_) give_event(device_, event_);
    device_ = o.device_;
    event_ = o.event_;
    o.event_ = nullptr;
  }
  return *this;
}

Fence::~Fence() {
  if (event_) give_event(device_, event_);
}

bool Fence::done() const {
  if (!event_) return true;
  const cudaError_t e = cudaEventQuery(event_);
  if (e == cudaErrorNotReady) return false;
  check(e, "the device's work", device_);
  return true;
}

void Fence::wait() const {
  if (!event_) return;
  check_not_lost(device_);
  check(cudaEventSynchronize(event_), "the device's work", device_);
  reclaim(device_);
}

Fence fence(int device) { return Fence(device, record(device)); }

void wait(int device) { fence(device).wait(); }

void keep_until_done(int device, std::shared_ptr<const void> owner) {
  if (!owner) return;
  reclaim(device);
  cudaEvent_t e = record(device);
  std::lock_guard<std::mutex> lock(registry().mu);
  registry().at(device).held.push_back({e, std::move(owner)});
}

}  // namespace subq::cuda
