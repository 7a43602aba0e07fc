#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#if !defined(_WIN32)
#include <pthread.h>
#endif

#include "env_warnings.h"

namespace subq {

int hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n ? int(n) : 1;
}

static int default_threads() {
  if (const char* env = std::getenv("SUBQ_NUM_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (end != env && *end == 0 && n >= 1 && n <= 1024) return int(n);
    env_warning("SUBQ_NUM_THREADS", env,
                "expected an integer in [1, 1024]; using " + std::to_string(hardware_threads()) + " (the hardware threads)");
  }
  return hardware_threads();
}

// Whether this thread is running a task (a nested run() then runs inline). A pthread
// key, not thread_local: an addon's thread_local is allocated lazily by malloc, and
// glibc aborts the process when that fails (a worker started as memory ran out).
#if defined(_WIN32)
static thread_local bool in_task_flag = false;
static bool in_task() { return in_task_flag; }
static void set_in_task(bool v) { in_task_flag = v; }
#else
static pthread_key_t task_key() {
  static const pthread_key_t key = [] {
    pthread_key_t k;
    pthread_key_create(&k, nullptr);
    return k;
  }();
  return key;
}
static bool in_task() { return pthread_getspecific(task_key()) != nullptr; }
static void set_in_task(bool v) { pthread_setspecific(task_key(), v ? reinterpret_cast<void*>(1) : nullptr); }
#endif

// Before sleeping on a condition variable, a worker waiting for the next region and
// the caller waiting for the workers spin this long: regions that follow each other
// closely (decode loops, short ops) then start and end without a futex wake-up, which
// took tens of microseconds here, a tenth of a 0.6 ms decode update.
constexpr auto kSpin = std::chrono::microseconds(100);

static inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

// True once ready() holds, false if kSpin passes first.
template <class F>
static bool spin(F ready) {
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (unsigned i = 0;; ++i) {
    if (ready()) return true;
    if (i % 64 == 63 && std::chrono::steady_clock::now() > until) return false;
    cpu_relax();
  }
}

struct ThreadPool::Impl {
  std::mutex run_mutex;  // one parallel region at a time
  std::mutex m;          // the sleeping side of both hand-offs, and error
  std::condition_variable wake, done;
  std::vector<std::thread> workers;
  // A region is published by one release store of ticket = (sequence << 16) | n, after
  // fn and pending are set; fn stays valid until the region's n - 1 workers are done.
  const std::function<void(int, int)>* fn = nullptr;
  // The region's shares: fn(t, shares) for every t, thread k running t = k, k + n, ...
  // (n < shares only when fewer threads than asked for could be started).
  int shares = 0;
  const std::atomic<bool>* cancel = nullptr;  // the caller's cancellation flag, for its tasks
  std::atomic<uint64_t> ticket{0};
  std::atomic<int> pending{0};
  std::atomic<bool> stop{false};
  std::exception_ptr error;
  std::atomic<int> threads{default_threads()};

  void worker(int id) {
    uint64_t seen = 0;
    auto started = [&] { return stop.load(std::memory_order_acquire) || ticket.load(std::memory_order_acquire) != seen; };
    for (;;) {
      if (!spin(started)) {
        std::unique_lock<std::mutex> lk(m);
        wake.wait(lk, started);
      }
      if (stop.load(std::memory_order_acquire)) return;
      seen = ticket.load(std::memory_order_acquire);
      const int n = int(seen & 0xffff);
      if (id >= n) continue;  // not needed by this region
      CancelScope scope(cancel);
      for (int t = id; t < shares; t += n) execute(*fn, t, shares);
      if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> g(m);  // the caller may be between its check and its wait
        done.notify_one();
      }
    }
  }

  void execute(const std::function<void(int, int)>& f, int t, int count) {
    set_in_task(true);
    try {
      f(t, count);
    } catch (...) {
      std::lock_guard<std::mutex> g(m);
      if (!error) error = std::current_exception();
    }
    set_in_task(false);
  }
};

ThreadPool::ThreadPool() : impl_(new Impl) {}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> g(impl_->m);
    impl_->stop.store(true, std::memory_order_release);
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
  if (n == 1 || in_task()) {  // nested or serial: run every share here
    for (int t = 0; t < n; ++t) fn(t, n);
    return;
  }
  std::lock_guard<std::mutex> region(impl_->run_mutex);
  Impl& s = *impl_;
  // Threads that cannot start (a process or container limit) leave their shares to
  // the ones that did: the split, so the result, is the same.
  try {
    while (int(s.workers.size()) < n - 1) {
      int id = int(s.workers.size()) + 1;
      s.workers.emplace_back([&s, id] { s.worker(id); });
    }
  } catch (const std::system_error&) {
  }
  const int shares = n;
  n = std::min(n, int(s.workers.size()) + 1);
  s.fn = &fn;
  s.shares = shares;
  s.cancel = cancel_flag();
  s.pending.store(n - 1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> g(s.m);
    s.error = nullptr;
    s.ticket.store(((s.ticket.load(std::memory_order_relaxed) >> 16) + 1) << 16 | uint64_t(n),
                   std::memory_order_release);
  }
  s.wake.notify_all();
  for (int t = 0; t < shares; t += n) s.execute(fn, t, shares);
  auto finished = [&] { return s.pending.load(std::memory_order_acquire) == 0; };
  std::unique_lock<std::mutex> lk(s.m, std::defer_lock);
  if (spin(finished)) lk.lock();
  else {
    lk.lock();
    s.done.wait(lk, finished);
  }
  s.fn = nullptr;
  if (s.error) {
    auto e = s.error;
    s.error = nullptr;
    std::rethrow_exception(e);
  }
}

}  // namespace subq
