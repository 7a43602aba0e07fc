// Kernel shapes whose best value differs by machine, chosen at run time by measurement.
// A PlanChoice is a named choice among a fixed list of candidates: on first use its
// measurement times the candidates on a short problem (interleaved, best or median of a
// few rounds, by the threads' CPU time) and the fastest is kept for the process. SUBQ_PLAN=name=value,... sets values
// at start-up ("auto": measure), a setter at run time; backendInfo().cpu.plan reports
// every choice and where its value came from. Candidates differ in speed only: each gives
// the same bits.
#pragma once
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

namespace subq::cpu {

class PlanChoice {
 public:
  // Times the candidates and returns the fastest one's index, or -1 where they cannot
  // be timed on this CPU (the first candidate, the default, then holds).
  using Measure = int (*)();
  enum class Source { Pending, Measured, Default, Env, Set };

  // legacy_env: an older variable that sets this choice alone (values as the candidates'
  // names); SUBQ_PLAN wins where both name it.
  PlanChoice(const char* name, std::vector<const char*> candidates, Measure measure, const char* legacy_env = nullptr);
  PlanChoice(const PlanChoice&) = delete;
  PlanChoice& operator=(const PlanChoice&) = delete;

  // The index in effect; measures on the first call unless a value was set.
  int get() {
    const int s = set_.load(std::memory_order_relaxed);
    return s >= 0 ? s & 0xff : measured();
  }
  // Forces candidate i (Source::Set); -1 returns to the measured value.
  void set(int i);
  int find(const std::string& value) const;  // the candidate's index, or -1

  const char* name() const { return name_; }
  const std::vector<const char*>& candidates() const { return candidates_; }
  // The value in effect and its source, without measuring (index -1 while pending).
  void state(int& index, Source& source) const;

 private:
  int measured();
  static int encode(int i, Source s) { return i | int(s) << 8; }

  const char* name_;
  std::vector<const char*> candidates_;
  Measure measure_;
  std::atomic<int> set_{-1};        // index | source << 8, or -1: measure
  std::atomic<int> measured_{-2};   // -2 pending, -1 could not measure, else the index
  std::once_flag once_;
};

// CPU time of the calling thread, in seconds: a measurement timed with it leaves out the
// time its threads spent descheduled, the main noise on a busy machine.
double thread_cpu_seconds();

struct PlanEntry {
  std::string name, value, source;  // value "" while pending; source: pending, measured, default, env, set
  std::vector<std::string> candidates;
};
std::vector<PlanEntry> plan_report();

// The choice of that name, or nullptr; plan_names() lists them all.
PlanChoice* plan_choice(const std::string& name);
std::string plan_names();  // "a, b, c"

// Warns (once) about SUBQ_PLAN entries that name no choice or are malformed.
void plan_check_env();

}  // namespace subq::cpu
