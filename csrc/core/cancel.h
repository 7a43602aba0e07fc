// Cooperative cancellation of running ops. The binding points the thread that runs
// an op at its environment's "closing" flag; ThreadPool::run hands the caller's flag
// to its tasks; kernels call check_cancelled() between tiles or chunks, so a
// process.exit() or a worker's terminate() does not wait for a long op to finish.
#pragma once
#include <atomic>

namespace subq {

// This thread's flag (null: none).
void set_cancel_flag(const std::atomic<bool>* flag);
const std::atomic<bool>* cancel_flag();
// Throws Error(ErrorCode::Cancelled) when this thread's flag is set.
void check_cancelled();

// Sets a thread's flag for a scope, restoring the previous one.
class CancelScope {
 public:
  explicit CancelScope(const std::atomic<bool>* flag) : prev_(cancel_flag()) { set_cancel_flag(flag); }
  ~CancelScope() { set_cancel_flag(prev_); }
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;

 private:
  const std::atomic<bool>* prev_;
};

}  // namespace subq
