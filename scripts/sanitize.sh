#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer over the addon and the native tests.
#   scripts/sanitize.sh            builds build-asan/ and build-native-asan/, then runs
#                                  the chosen test files and the fuzz test on the
#                                  sanitized addon, and a subset of the native tests
# Ends with "N passed, N failed" (the tap totals plus one for the native run) and
# exits non-zero on any failure or sanitizer report.
#
# How: cmake-js sets CMAKE_CXX_FLAGS itself, so the flags go in the per-config
# CMAKE_CXX_FLAGS_RELEASE / CMAKE_SHARED_LINKER_FLAGS_RELEASE. Node is not built
# with ASan, so the runtime is loaded first with LD_PRELOAD, and the tests load the
# sanitized addon through SUBQ_NATIVE_PATH. Leak checking is off (V8 and Node keep
# memory to exit by design); a failed allocation returns null (the out-of-memory
# tests need it); any other report aborts the process and fails the test, and is
# counted from the log. test/attention.test.ts (7 minutes sanitized) is left out:
# the fuzz test covers the attention paths.
set -uo pipefail
cd "$(dirname "$0")/.."

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
JOBS=${JOBS:-2}
# The slow emulated kernels (test/native-*.test.ts) and the benchmarks are left out;
# each of these runs under a minute unsanitized.
FILES=${SANITIZE_FILES:-"test/reliability-memory.test.ts test/reliability-threads.test.ts test/reliability-args.test.ts
  test/fuzz.test.ts test/attention-errors.test.ts test/ssm-errors.test.ts test/merge.test.ts test/tensor.test.ts
  test/ssm-decode.test.ts test/install.test.ts test/xattention.test.ts"}
# Native families run sanitized (about a minute): --filter arguments of the runner.
NATIVE_FILTERS=("merge " "ssm " "simt:" "ptx:" "attention plan")
NATIVE_ARGS=()
for f in "${NATIVE_FILTERS[@]}"; do NATIVE_ARGS+=(--filter "$f"); done

fail() { echo "$1"; echo "0 passed, 1 failed"; exit 1; }

echo "== sanitized addon (build-asan)"
SUBQ_CUDA=0 npx cmake-js build -O build-asan --parallel "$JOBS" --log-level warn \
  --CDCMAKE_CXX_FLAGS_RELEASE="$SAN" --CDCMAKE_SHARED_LINKER_FLAGS_RELEASE="-fsanitize=address,undefined" \
  || fail "the sanitized addon did not build"
addon=$PWD/build-asan/Release/subquadratic.node

asan=$(g++ -print-file-name=libasan.so)
ubsan=$(g++ -print-file-name=libubsan.so)
[ -e "$asan" ] && [ -e "$ubsan" ] || fail "libasan/libubsan not found (they come with g++)"
log=$(mktemp)
# shellcheck disable=SC2086
LD_PRELOAD="$asan $ubsan" SUBQ_NATIVE_PATH="$addon" \
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:detect_stack_use_after_return=0:allocator_may_return_null=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  npx tap --disable-coverage $FILES 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
summary=$(grep -E '^# \{ total: [0-9]+' "$log" | tail -1)
total=$(sed -E 's/.*total: ([0-9]+).*/\1/' <<<"$summary"); total=${total:-0}
pass=$(sed -E 's/.*pass: ([0-9]+).*/\1/' <<<"$summary"); pass=${pass:-0}
reports=$(grep -cE 'ERROR: AddressSanitizer|SUMMARY: (Address|UndefinedBehavior)Sanitizer|runtime error:' "$log")
echo "== sanitizer reports in the tap run: $reports"
skip=$(grep -oE 'skip: [0-9]+' <<<"$summary" | sed -E 's/skip: //'); skip=${skip:-0}  # skipped: neither
failed=$(( total - pass - skip ))
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
[ "$reports" -ne 0 ] && failed=$(( failed + reports ))

echo "== sanitized native tests (build-native-asan: ${NATIVE_FILTERS[*]})"
nlog=$(mktemp)
if cmake -S . -B build-native-asan -DSUBQ_NATIVE_TESTS=ON -DSUBQ_NO_CUDA=ON -DCMAKE_BUILD_TYPE=Release \
     -DCMAKE_CXX_FLAGS="$SAN" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >"$nlog" 2>&1 &&
   cmake --build build-native-asan --target subq_native_tests -j"$JOBS" >>"$nlog" 2>&1 &&
   ASAN_OPTIONS=detect_leaks=0:detect_stack_use_after_return=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     build-native-asan/test/native/subq_native_tests "${NATIVE_ARGS[@]}" >>"$nlog" 2>&1; then
  nrep=$(grep -cE 'ERROR: AddressSanitizer|SUMMARY: (Address|UndefinedBehavior)Sanitizer|runtime error:' "$nlog")
  echo "$(grep -E '^# [0-9]+ passed' "$nlog" | tail -1) ; sanitizer reports: $nrep"
  if [ "$nrep" -eq 0 ]; then pass=$(( pass + 1 )); else failed=$(( failed + 1 )); fi
else
  tail -40 "$nlog"
  failed=$(( failed + 1 ))
fi
echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
