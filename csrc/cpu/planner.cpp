#include "planner.h"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <utility>

#include "../core/env_warnings.h"

namespace subq::cpu {

namespace {

// Every choice, in construction order (namespace-scope objects: all constructed when the
// library is loaded, before any call can read the list).
std::vector<PlanChoice*>& registry() {
  static std::vector<PlanChoice*> r;
  return r;
}

struct EnvEntry {
  std::string text, name, value;  // text: the entry as written, for warnings
};

// SUBQ_PLAN=name=value,name=value: read once; an entry without '=' keeps an empty name.
const std::vector<EnvEntry>& env_entries() {
  static const std::vector<EnvEntry> entries = [] {
    std::vector<EnvEntry> r;
    const char* env = std::getenv("SUBQ_PLAN");
    if (!env) return r;
    const std::string s = env;
    for (size_t at = 0; at <= s.size();) {
      size_t end = s.find(',', at);
      if (end == std::string::npos) end = s.size();
      const std::string text = s.substr(at, end - at);
      at = end + 1;
      if (text.empty()) continue;
      const size_t eq = text.find('=');
      if (eq == std::string::npos) r.push_back({text, "", ""});
      else r.push_back({text, text.substr(0, eq), text.substr(eq + 1)});
    }
    return r;
  }();
  return entries;
}

std::string join(const std::vector<const char*>& v) {
  std::string s;
  for (const char* c : v) s += (s.empty() ? "" : ", ") + std::string(c);
  return s;
}

const char* source_name(PlanChoice::Source s) {
  switch (s) {
    case PlanChoice::Source::Measured: return "measured";
    case PlanChoice::Source::Default: return "default";
    case PlanChoice::Source::Env: return "env";
    case PlanChoice::Source::Set: return "set";
    default: return "pending";
  }
}

}  // namespace

PlanChoice::PlanChoice(const char* name, std::vector<const char*> candidates, Measure measure, const char* legacy_env)
    : name_(name), candidates_(std::move(candidates)), measure_(measure) {
  registry().push_back(this);
  const EnvEntry* entry = nullptr;
  for (const EnvEntry& e : env_entries())
    if (e.name == name_) entry = &e;  // the last one wins
  const std::string expected = "expected " + join(candidates_) + " or auto";
  if (entry) {
    const int i = find(entry->value);
    if (i >= 0) set_.store(encode(i, Source::Env));
    else if (entry->value != "auto") env_warning("SUBQ_PLAN", entry->text.c_str(), expected + " for " + name_ + "; measuring");
    return;
  }
  const char* legacy = legacy_env ? std::getenv(legacy_env) : nullptr;
  if (!legacy) return;
  const int i = find(legacy);
  if (i >= 0) set_.store(encode(i, Source::Env));
  else if (std::string(legacy) != "auto") env_warning(legacy_env, legacy, expected + "; measuring");
}

void PlanChoice::set(int i) { set_.store(i >= 0 ? encode(i, Source::Set) : -1); }

int PlanChoice::find(const std::string& value) const {
  for (size_t i = 0; i < candidates_.size(); ++i)
    if (value == candidates_[i]) return int(i);
  return -1;
}

int PlanChoice::measured() {
  int m = measured_.load(std::memory_order_acquire);
  if (m == -2) {
    // Once per process; a measurement that throws (a cancelled call) runs again next time.
    std::call_once(once_, [this] { measured_.store(measure_(), std::memory_order_release); });
    m = measured_.load(std::memory_order_acquire);
  }
  return m < 0 ? 0 : m;
}

void PlanChoice::state(int& index, Source& source) const {
  const int s = set_.load(std::memory_order_relaxed);
  if (s >= 0) {
    index = s & 0xff;
    source = Source(s >> 8);
    return;
  }
  const int m = measured_.load(std::memory_order_acquire);
  index = m == -2 ? -1 : m < 0 ? 0 : m;
  source = m == -2 ? Source::Pending : m < 0 ? Source::Default : Source::Measured;
}

double thread_cpu_seconds() {
#ifdef CLOCK_THREAD_CPUTIME_ID
  timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
#endif
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::vector<PlanEntry> plan_report() {
  std::vector<PlanEntry> r;
  for (const PlanChoice* c : registry()) {
    int i;
    PlanChoice::Source s;
    c->state(i, s);
    PlanEntry e{c->name(), i >= 0 ? c->candidates()[size_t(i)] : "", source_name(s), {}};
    for (const char* v : c->candidates()) e.candidates.push_back(v);
    r.push_back(std::move(e));
  }
  return r;
}

PlanChoice* plan_choice(const std::string& name) {
  for (PlanChoice* c : registry())
    if (name == c->name()) return c;
  return nullptr;
}

std::string plan_names() {
  std::vector<const char*> names;
  for (const PlanChoice* c : registry()) names.push_back(c->name());
  return join(names);
}

void plan_check_env() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (const EnvEntry& e : env_entries())
      if (!plan_choice(e.name))
        env_warning("SUBQ_PLAN", e.text.c_str(), "expected name=value with a name among " + plan_names());
  });
}

}  // namespace subq::cpu
