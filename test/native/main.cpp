// Runs the registered native tests:
//   subq_native_tests [--filter SUBSTRING]... [--exclude SUBSTRING]... [--list]
// A case runs when its name contains any --filter (or there is none) and no --exclude.
// The SIMT thread order comes from SIMT_SCHEDULE (normal, reverse, random[:seed]).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "harness.h"

int main(int argc, char** argv) {
  using namespace subq::test;
  std::vector<std::string> filters, excludes;
  bool list = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--filter") && i + 1 < argc) filters.push_back(argv[++i]);
    else if (!std::strcmp(argv[i], "--exclude") && i + 1 < argc) excludes.push_back(argv[++i]);
    else if (!std::strcmp(argv[i], "--list")) list = true;
    else {
      std::fprintf(stderr, "usage: %s [--filter SUBSTRING]... [--exclude SUBSTRING]... [--list]\n", argv[0]);
      return 2;
    }
  }
#ifndef SUBQ_DEVICE_TESTS
  register_simt_tests();
#ifdef SUBQ_HAVE_CUDA_HEADERS
  register_cuda_headers_tests();
#endif
  register_host_blocks_tests();
#endif
  register_xattention_tests();
  register_xattention_select_tests();
  register_block_mask_tests();
  register_quant_tests();
  register_attention_tests();
  register_merge_tests();
  register_ssm_tests();
  int n = 0, failed = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (const Case& c : registry()) {
    auto has = [&](const std::vector<std::string>& subs) {
      for (const std::string& f : subs)
        if (c.name.find(f) != std::string::npos) return true;
      return false;
    };
    if ((!filters.empty() && !has(filters)) || has(excludes)) continue;
    ++n;
    if (list) { std::printf("%s\n", c.name.c_str()); continue; }
    std::string why;
    try {
      c.run();
    } catch (const std::exception& e) {
      why = e.what();
    } catch (...) {
      why = "unknown exception";
    }
    for (char& ch : why)
      if (ch == '\n') ch = ' ';
    if (why.empty()) std::printf("ok %d - %s\n", n, c.name.c_str());
    else std::printf("not ok %d - %s # %s\n", n, c.name.c_str(), why.c_str()), ++failed;
    std::fflush(stdout);
  }
  if (list) return 0;
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("1..%d\n# %d passed, %d failed in %.1f s\n", n, n - failed, failed, s);
  return failed ? 1 : 0;
}
