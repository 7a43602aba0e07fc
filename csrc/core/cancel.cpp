#include "cancel.h"

#include "error.h"

#if !defined(_WIN32)
#include <pthread.h>
#endif

namespace subq {

// A pthread key, not thread_local: see thread_pool.cpp (glibc aborts when an addon's
// lazily allocated thread_local cannot be allocated).
#if defined(_WIN32)
static thread_local const std::atomic<bool>* tls_flag = nullptr;
void set_cancel_flag(const std::atomic<bool>* flag) { tls_flag = flag; }
const std::atomic<bool>* cancel_flag() { return tls_flag; }
#else
static pthread_key_t key() {
  static const pthread_key_t k = [] {
    pthread_key_t x;
    pthread_key_create(&x, nullptr);
    return x;
  }();
  return k;
}
void set_cancel_flag(const std::atomic<bool>* flag) {
  pthread_setspecific(key(), const_cast<std::atomic<bool>*>(flag));
}
const std::atomic<bool>* cancel_flag() { return static_cast<const std::atomic<bool>*>(pthread_getspecific(key())); }
#endif

void check_cancelled() {
  const std::atomic<bool>* f = cancel_flag();
  if (f && f->load(std::memory_order_relaxed))
    throw Error(ErrorKind::Runtime, "the call was cancelled: its environment is shutting down", ErrorCode::Cancelled);
}

}  // namespace subq
