#!/usr/bin/env bash
# scripts/gpu-check.sh OUTDIR [--dry-run]
#
# For a machine with an NVIDIA GPU and the CUDA toolkit, no network, Node optional.
# Builds for this GPU only, then runs, each step under its own time limit:
#   1. the native tests on the device (test/native, target subq_native_tests_device),
#   2. the native benchmark (bench/native, subq_bench_native) at GPU shapes: dense,
#      block-sparse at 10% density against dense at N 16384/32768, XAttention scoring
#      and selection against dense at N 32768, and decode,
#   3. compute-sanitizer memcheck and racecheck on small shapes,
#   4. with Node and node_modules present: the addon for this GPU and the CUDA tap tests.
# Everything goes to OUTDIR: logs/<step>.log, bench.json, and gpu-check.json (one
# entry per step: ok | failed | timeout | skipped, seconds, log, detail). A failing
# step never stops the others. The whole run stays within 8 minutes (SUBQ_GPU_CHECK_BUDGET
# seconds, default 470); a step that would not fit is skipped and says so.
# --dry-run: detect the machine, print the plan, write gpu-check.json, run nothing.
# Exit status: 0 all steps ok, 1 some step failed, 2 usage, 3 no GPU or no toolkit.
set -u
set -o pipefail

usage() { echo "usage: $0 OUTDIR [--dry-run]" >&2; exit 2; }
[ $# -ge 1 ] || usage
OUT=$1
DRY=0
[ "${2:-}" = "--dry-run" ] && DRY=1
[ $# -le 2 ] || usage
[ $# -eq 1 ] || [ $DRY -eq 1 ] || usage

ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$OUT/logs" || { echo "cannot create $OUT" >&2; exit 2; }
OUT=$(cd "$OUT" && pwd)
cd "$ROOT" || exit 2
BUILD="$OUT/build"
START=$(date +%s)
BUDGET=${SUBQ_GPU_CHECK_BUDGET:-470}
STEPS=()        # JSON objects, one per step
FAILED=0

LOGS="$OUT/logs"
LOGNAME_=gpu-check
# shellcheck source=scripts/gpu-common.sh
. "$ROOT/scripts/gpu-common.sh"

GPU_NAME=""; GPU_CC=""; ARCH=""; NVCC=""; SANITIZER=""; NODE=""; DRIVER=""; NO_GPU=""
write_summary() {
  local steps="" s
  for s in "${STEPS[@]+"${STEPS[@]}"}"; do steps+="${steps:+,
    }$s"; done
  cat > "$OUT/gpu-check.json" <<EOF
{
  "gpu": $( [ -n "$GPU_NAME" ] && json_str "$GPU_NAME" || echo null ),
  "computeCapability": $(json_str "$GPU_CC"),
  "arch": $(json_str "$ARCH"),
  "driver": $(json_str "$DRIVER"),
  "nvcc": $(json_str "$NVCC"),
  "computeSanitizer": $(json_str "$SANITIZER"),
  "node": $(json_str "$NODE"),
  "error": $( [ -n "$NO_GPU" ] && json_str "$NO_GPU" || echo null ),
  "dryRun": $( [ $DRY -eq 1 ] && echo true || echo false ),
  "seconds": $(( $(date +%s) - START )),
  "steps": [
    $steps
  ]
}
EOF
}
trap write_summary EXIT

# --- the machine -------------------------------------------------------------
NVCC=$(find_tool nvcc || true)
SANITIZER=$(find_tool compute-sanitizer || true)
NODE=$(command -v node || true)
CMAKE=$(command -v cmake || true)
detect_gpu
if [ -n "$NO_GPU" ]; then log "$NO_GPU"; exit 3; fi
log "GPU: $GPU_NAME (compute capability $GPU_CC, sm_$ARCH), driver $DRIVER"
if [ -z "$NVCC" ] || [ -z "$CMAKE" ]; then
  NO_GPU="the CUDA toolkit (nvcc) and cmake are needed: nvcc='${NVCC}', cmake='${CMAKE}'"
  log "$NO_GPU"
  exit 3
fi
log "nvcc: $NVCC ($("$NVCC" --version | tail -n1)); cmake: $CMAKE; compute-sanitizer: ${SANITIZER:-none}; node: ${NODE:-none}"
JOBS=$(nproc 2>/dev/null || echo 4)
GEN=()
command -v ninja >/dev/null 2>&1 && GEN=(-G Ninja)

# --- build -------------------------------------------------------------------
export SUBQ_CUDA_ARCHS=$ARCH
step configure 90 "$CMAKE" -S "$ROOT" -B "$BUILD" "${GEN[@]+"${GEN[@]}"}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_COMPILER="$NVCC" -DSUBQ_NATIVE_TESTS=ON -DSUBQ_NATIVE_TESTS_DEVICE=ON -DSUBQ_NATIVE_BENCH=ON
step build-tests 240 "$CMAKE" --build "$BUILD" --target subq_native_tests_device -j "$JOBS"
TESTS_OK=$?
step build-bench 200 "$CMAKE" --build "$BUILD" --target subq_bench_native -j "$JOBS"
BENCH_OK=$?
TESTS=$(find "$BUILD" -name subq_native_tests_device -type f -perm -u+x 2>/dev/null | head -n1)
BENCH=$(find "$BUILD" -name subq_bench_native -type f -perm -u+x 2>/dev/null | head -n1)

# --- device tests, benchmark, sanitizers (in the order of what matters most if time runs short)
if [ $DRY -eq 1 ] || { [ $TESTS_OK -eq 0 ] && [ -n "$TESTS" ]; }; then
  step native-tests 90 "${TESTS:-subq_native_tests_device}"
else
  record native-tests skipped 0 0 "subq_native_tests_device did not build (see logs/build-tests.log)"
fi
if [ $DRY -eq 1 ] || { [ $BENCH_OK -eq 0 ] && [ -n "$BENCH" ]; }; then
  step bench 150 "${BENCH:-subq_bench_native}" --json "$OUT/bench.json"
else
  record bench skipped 0 0 "subq_bench_native did not build (see logs/build-bench.log)"
fi

if [ -z "$SANITIZER" ]; then
  record memcheck skipped 0 0 "compute-sanitizer not found"
  record racecheck skipped 0 0 "compute-sanitizer not found"
else
  CS=("$SANITIZER" --error-exitcode 1 --print-limit 20)
  # Small shapes: the head-dim-64 test cases and the benchmark's --check shapes.
  if [ -n "$TESTS" ] || [ $DRY -eq 1 ]; then
    step memcheck-tests 60 "${CS[@]}" --tool memcheck "${TESTS:-subq_native_tests_device}" --filter " D64"
    step racecheck-tests 60 "${CS[@]}" --tool racecheck "${TESTS:-subq_native_tests_device}" --filter "float16 B1 H2/2"
  fi
  if [ -n "$BENCH" ] || [ $DRY -eq 1 ]; then
    step memcheck-ops 40 "${CS[@]}" --tool memcheck "${BENCH:-subq_bench_native}" --check
    step racecheck-ops 40 "${CS[@]}" --tool racecheck "${BENCH:-subq_bench_native}" --check
  fi
fi

# --- the Node package (only when it can be built offline) ----------------------
if [ -z "$NODE" ]; then
  record addon skipped 0 0 "node not installed"
elif [ ! -d "$ROOT/node_modules/cmake-js" ] || [ ! -d "$ROOT/node_modules/tap" ]; then
  record addon skipped 0 0 "node_modules missing (npm ci needs a network); the native steps above do not need Node"
else
  if step addon 150 "$NODE" "$ROOT/node_modules/cmake-js/bin/cmake-js" build -d "$ROOT" -O "$OUT/build-addon" --parallel "$JOBS"; then
    ADDON=$(find "$OUT/build-addon" -name subquadratic.node -type f 2>/dev/null | head -n1)
    step tap-cuda 90 env SUBQ_NATIVE_PATH="${ADDON:-build-addon/subquadratic.node}" "$NODE" node_modules/.bin/tap \
      --disable-coverage test/cuda.test.ts test/merge.test.ts
  fi
fi

log "done in $(( $(date +%s) - START ))s; summary in $OUT/gpu-check.json"
exit $FAILED
