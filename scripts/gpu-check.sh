#!/usr/bin/env bash
# scripts/gpu-check.sh OUTDIR [--dry-run]
#
# For a machine with an NVIDIA GPU and the CUDA toolkit, no network, Node optional.
# Builds for this GPU only, then runs, each step under its own time limit:
#   1. the native tests on the device (test/native, target subq_native_tests_device),
#   2. the native benchmark (bench/native, subq_bench_native) at GPU shapes: dense,
#      block-sparse at 10% density against dense at N 16384/32768, and decode,
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

json_str() {  # JSON string literal of $1
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/}
  s=${s//$'\t'/ }
  printf '"%s"' "$s"
}

log() { printf '[gpu-check %3ds] %s\n' "$(( $(date +%s) - START ))" "$*" | tee -a "$OUT/logs/gpu-check.log"; }

record() {  # name status rc seconds detail
  STEPS+=("{\"name\": $(json_str "$1"), \"status\": \"$2\", \"rc\": $3, \"seconds\": $4, \"log\": $(json_str "logs/$1.log"), \"detail\": $(json_str "$5")}")
  [ "$2" = failed ] || [ "$2" = timeout ] && FAILED=1
  log "$1: $2${5:+ ($5)}"
}

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

# step NAME LIMIT_SECONDS COMMAND...: runs COMMAND with its output in logs/NAME.log,
# under min(LIMIT, what is left of the budget); records the outcome. Returns its rc.
step() {
  local name=$1 limit=$2; shift 2
  local left=$(( BUDGET - ($(date +%s) - START) ))
  if [ $DRY -eq 1 ]; then
    record "$name" skipped 0 0 "dry run: would run (limit ${limit}s): $*"
    return 0
  fi
  if [ "$left" -lt 15 ]; then
    record "$name" skipped 0 0 "out of time: ${left}s of the ${BUDGET}s budget left"
    return 125
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  log "$name: start (limit ${limit}s): $*"
  local t0=$(date +%s)
  timeout --kill-after=5 "$limit" "$@" > "$OUT/logs/$name.log" 2>&1
  local rc=$?
  local dt=$(( $(date +%s) - t0 ))
  local detail
  detail=$(tail -n 3 "$OUT/logs/$name.log" | tr -s ' ' | cut -c1-400)
  if [ $rc -eq 0 ]; then record "$name" ok 0 $dt "$detail"
  elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then record "$name" timeout $rc $dt "killed after ${limit}s; $detail"
  else record "$name" failed $rc $dt "$detail"
  fi
  return $rc
}

# --- the machine -------------------------------------------------------------
find_tool() {  # name: on PATH, else next to nvcc, else in /usr/local/cuda/bin
  command -v "$1" 2>/dev/null && return 0
  local d
  for d in "${NVCC:+$(dirname "$NVCC")}" /usr/local/cuda/bin /opt/cuda/bin; do
    [ -n "$d" ] && [ -x "$d/$1" ] && { echo "$d/$1"; return 0; }
  done
  return 1
}
NVCC=$(find_tool nvcc || true)
SANITIZER=$(find_tool compute-sanitizer || true)
NODE=$(command -v node || true)
CMAKE=$(command -v cmake || true)
if ! command -v nvidia-smi >/dev/null 2>&1; then
  NO_GPU="no GPU: nvidia-smi is not installed"
elif ! GPU_CC=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>"$OUT/logs/nvidia-smi.log" | head -n1 | tr -d ' '); then
  NO_GPU="no GPU: nvidia-smi failed: $(head -c 300 "$OUT/logs/nvidia-smi.log")"
elif ! [[ "$GPU_CC" =~ ^[0-9]+\.[0-9]+$ ]]; then
  NO_GPU="no GPU: nvidia-smi reported no compute capability ('$GPU_CC')"
  GPU_CC=""
else
  GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n1)
  DRIVER=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -n1)
  ARCH=${GPU_CC/./}
  nvidia-smi > "$OUT/logs/nvidia-smi.log" 2>&1
fi
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
