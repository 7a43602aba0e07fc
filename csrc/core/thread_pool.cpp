#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace subq {

int hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n ? int(n) : 1;
}

static int default_threads() {
  if (const char* env = std::getenv("SUBQ_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n >= 1) return std::min(n, 1024);
  }
  return hardware_threads();
}

static thread_local bool in_task = false;

struct ThreadPool::Impl {
  std::mutex run_mutex;  // one parallel region at a time
  std::mutex m;
  std::condition_variable wake, done;
  std::vector<std::thread> workers;
  const std::function<void(int, int)>* fn = nullptr;
  int n = 0;
  uint64_t generation = 0;
  int pending = 0;
  bool stop = false;
  std::exception_ptr error;
  std::atomic<int> threads{default_threads()};

  void worker(int id) {
    uint64_t seen = 0;
    for (;;) {
      std::unique_lock<std::mutex> lk(m);
      wake.wait(lk, [&] { return stop || (generation != seen && id < n); });
      if (stop) return;
      seen = generation;
      const auto* f = fn;
      int count = n;
      lk.unlock();
      execute(*f, id, count);
      lk.lock();
      if (--pending == 0) done.notify_one();
    }
  }

  void execute(const std::function<void(int, int)>& f, int t, int count) {
    in_task = true;
    try {
      f(t, count);
    } catch (...) {
      std::lock_guard<std::mutex> g(m);
      if (!error) error = std::current_exception();
    }
    in_task = false;
  }
};

ThreadPool::ThreadPool() : impl_(new Impl) {}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> g(impl_->m);
    impl_->stop = true;
  }
  impl_->wake.notify_all();
  for (auto& w : impl_->workers) w.join();
  delete impl_;
}

ThreadPool& ThreadPool::instance() {
  // Leaked on purpose: worker threads must not be joined during static destruction
  // of an addon that may be unloaded in any order.
  static ThreadPool* pool = new ThreadPool();
  return *pool;
}

int ThreadPool::num_threads() const { return impl_->threads.load(); }

void ThreadPool::set_num_threads(int n) { impl_->threads.store(std::clamp(n, 1, 1024)); }

void ThreadPool::run(int n, const std::function<void(int, int)>& fn) {
  n = std::max(n, 1);
  if (n == 1 || in_task) {  // nested or serial: run every share here
    for (int t = 0; t < n; ++t) fn(t, n);
    return;
  }
  std::lock_guard<std::mutex> region(impl_->run_mutex);
  Impl& s = *impl_;
  {
    std::lock_guard<std::mutex> g(s.m);
    while (int(s.workers.size()) < n - 1) {
      int id = int(s.workers.size()) + 1;
      s.workers.emplace_back([&s, id] { s.worker(id); });
    }
    s.fn = &fn;
    s.n = n;
    s.pending = n - 1;
    s.error = nullptr;
    ++s.generation;
  }
  s.wake.notify_all();
  s.execute(fn, 0, n);
  std::unique_lock<std::mutex> lk(s.m);
  s.done.wait(lk, [&] { return s.pending == 0; });
  s.fn = nullptr;
  if (s.error) {
    auto e = s.error;
    s.error = nullptr;
    std::rethrow_exception(e);
  }
}

}  // namespace subq
