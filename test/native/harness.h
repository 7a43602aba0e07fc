// A minimal test registry for the native tests. The runner prints one TAP line
// per case ("ok N - name" / "not ok N - name # why"), which test/native-run.ts
// turns into one assertion each.
#pragma once
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace subq::test {

struct Case {
  std::string name;
  std::function<void()> run;
};

inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

inline void add(std::string name, std::function<void()> fn) { registry().push_back({std::move(name), std::move(fn)}); }

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline void check(bool ok, const std::string& what) {
  if (!ok) throw Failure(what);
}

// Runs fn and requires it to throw E with `needle` in its message.
template <class E, class F>
void expect_throw(F&& fn, const std::string& needle) {
  try {
    fn();
  } catch (const E& e) {
    check(std::string(e.what()).find(needle) != std::string::npos,
          "error message lacks '" + needle + "': " + e.what());
    return;
  }
  throw Failure("expected an error mentioning '" + needle + "', none was raised");
}

// Registration from each test file, called once by main().
void register_simt_tests();
void register_cuda_headers_tests();  // when the CUDA headers exist (SUBQ_HAVE_CUDA_HEADERS)
void register_attention_tests();
void register_merge_tests();
void register_ssm_tests();
void register_xattention_tests();
void register_xattention_select_tests();
void register_block_mask_tests();
void register_quant_tests();
void register_host_blocks_tests();  // emulated only (host memory, no kernels)

}  // namespace subq::test
