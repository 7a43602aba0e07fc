#include "env_warnings.h"

#include <mutex>

namespace subq {

namespace {
std::mutex& lock() {
  static std::mutex m;
  return m;
}
std::vector<std::string>& list() {
  static std::vector<std::string> l;
  return l;
}
}  // namespace

void env_warning(const char* name, const char* value, const std::string& what) {
  std::lock_guard<std::mutex> g(lock());
  list().push_back(std::string(name) + "='" + value + "' is ignored: " + what);
}

std::vector<std::string> env_warnings() {
  std::lock_guard<std::mutex> g(lock());
  return list();
}

}  // namespace subq
