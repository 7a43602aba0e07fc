// A persistent pool of worker threads for the CPU kernels.
// run(n, fn) calls fn(t, n) once for each t in [0, n) on n threads (the caller is
// thread 0) and returns when all are done. Kernels split work statically by t, so
// a result never depends on scheduling. Calls from different threads are
// serialised; a call from inside a task runs inline on one thread.
#pragma once
#include <functional>

#include "cancel.h"  // tasks run with their caller's cancellation flag

namespace subq {

class ThreadPool {
 public:
  static ThreadPool& instance();

  int num_threads() const;       // threads used by run() by default
  void set_num_threads(int n);   // clamped to [1, 1024]; workers start on demand
  void run(int n, const std::function<void(int t, int n)>& fn);
  void run(const std::function<void(int t, int n)>& fn) { run(num_threads(), fn); }

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

 private:
  ThreadPool();
  ~ThreadPool();
  struct Impl;
  Impl* impl_;
};

int hardware_threads();

}  // namespace subq
