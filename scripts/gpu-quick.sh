#!/usr/bin/env bash
# scripts/gpu-quick.sh OUTDIR [--prebuilt DIR] [--dry-run]
# scripts/gpu-quick.sh --prebuild DIR
#
# The most information from one short GPU window (issue 10): one call, under 8
# minutes (SUBQ_GPU_QUICK_BUDGET seconds, default 450), on a machine with an NVIDIA
# GPU, the CUDA toolkit and PyTorch, without Node or a network. In order of what
# matters most if time runs short, each step under its own limit:
#   1. the native device tests (test/native, subq_native_tests_device);
#   2. our benchmark rows (bench/native --quick: fp16/bf16, hd64/hd128, N 4096 and
#      16384, causal or not; decode Nq=1 Nk=32768 B=8 Hq=32 Hkv=8; XAttention scoring
#      and selection at N 32768 against dense in the same run; scan; update);
#   3. the same attention shapes through PyTorch's SDPA with the flash, cuDNN and
#      efficient backends each forced (scripts/gpu_quick.py peers);
#   4. Nsight Compute on our forward kernel and PyTorch's flash kernel at one shape
#      (fp16, B4 H16 N4096 D128): instructions, issue-slot use, warp stall reasons,
#      achieved occupancy;
#   5. compute-sanitizer memcheck and racecheck on tiny shapes (bench --check);
#      "unsupported" (not failed) when the runtime refuses the device.
# Builds and logs go to a work folder outside OUTDIR (SUBQ_GPU_WORK, default
# /tmp/subq-gpu-quick); OUTDIR gets four files: summary.json (machine, steps, every
# row with its peer ratios and the issue's targets), table.md (the same as a table),
# ncu.txt (both kernels' Nsight Compute pages, side by side in one file), logs.tar.gz
# (every log, bench and peer JSON, the .ncu-rep reports).
#
# Compiling takes minutes, so build on the CPU machine and carry the result:
#   scripts/gpu-quick.sh --prebuild .gpu-prebuilt      (sm_90; .gpu-prebuilt is git-ignored)
# then on the GPU machine (the device tool: carry [".gpu-prebuilt"], timeout_s 540):
#   bash scripts/gpu-quick.sh "$OUT" --prebuilt .gpu-prebuilt
# Without --prebuilt (or when it lacks an executable) the script builds for the GPU
# it finds, which spends most of the window.
# --dry-run: check the tools (no GPU needed), print the plan, write summary.json and
# table.md, run nothing. Exit status: 0 all steps ok (or a dry run), 1 some step
# failed, 2 usage, 3 no GPU or a missing tool.
set -u
set -o pipefail

usage() { echo "usage: $0 OUTDIR [--prebuilt DIR] [--dry-run] | $0 --prebuild DIR" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
EXES=(subq_native_tests_device subq_bench_native)

# --- prebuild (on the CPU machine) ----------------------------------------------
if [ "${1:-}" = "--prebuild" ]; then
  [ $# -eq 2 ] || usage
  DEST=$2
  mkdir -p "$DEST" || exit 2
  DEST=$(cd "$DEST" && pwd)
  GEN=()
  command -v ninja >/dev/null 2>&1 && GEN=(-G Ninja)
  SUBQ_CUDA_ARCHS=${SUBQ_CUDA_ARCHS:-90} cmake -S "$ROOT" -B "$DEST/cmake" "${GEN[@]+"${GEN[@]}"}" -DCMAKE_BUILD_TYPE=Release \
    -DSUBQ_NATIVE_TESTS=ON -DSUBQ_NATIVE_TESTS_DEVICE=ON -DSUBQ_NATIVE_BENCH=ON || exit 1
  cmake --build "$DEST/cmake" --target "${EXES[@]}" -j "${JOBS:-$(nproc)}" || exit 1
  for e in "${EXES[@]}"; do
    f=$(find "$DEST/cmake" -name "$e" -type f -perm -u+x | head -n1)
    [ -n "$f" ] || { echo "$e was not built" >&2; exit 1; }
    cp "$f" "$DEST/$e" && strip "$DEST/$e" 2>/dev/null
  done
  rm -rf "$DEST/cmake"  # only the executables travel (cudart is linked statically)
  (cd "$ROOT" && git rev-parse HEAD 2>/dev/null; git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -c .) > "$DEST/stamp"
  du -sh "$DEST"
  exit 0
fi

[ $# -ge 1 ] || usage
OUT=$1; shift
DRY=0
PREBUILT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --prebuilt) [ $# -ge 2 ] || usage; PREBUILT=$2; shift ;;
    *) usage ;;
  esac
  shift
done

mkdir -p "$OUT" || { echo "cannot create $OUT" >&2; exit 2; }
OUT=$(cd "$OUT" && pwd)
WORK=${SUBQ_GPU_WORK:-/tmp/subq-gpu-quick}
case "$WORK/" in "$OUT"/*) echo "SUBQ_GPU_WORK must lie outside OUTDIR" >&2; exit 2 ;; esac
# What an earlier run left is cleared, except its build (reused when the sources match).
mkdir -p "$WORK/logs" || { echo "cannot create $WORK" >&2; exit 2; }
rm -f "$WORK"/logs/* "$WORK"/*.json "$WORK"/*.ncu-rep
LOGS="$WORK/logs"
LOGNAME_=gpu-quick
cd "$ROOT" || exit 2
START=$(date +%s)
BUDGET=${SUBQ_GPU_QUICK_BUDGET:-450}
STEPS=()
FAILED=0
# shellcheck source=scripts/gpu-common.sh
. "$ROOT/scripts/gpu-common.sh"

# A sanitizer the runtime refuses (gVisor: "Device not supported", error 999) is
# "unsupported here", not a failure.
classify_step() {
  if [ "$2" -ne 0 ] && [[ "$1" == memcheck || "$1" == racecheck ]] &&
     grep -qiE 'device not supported|not supported on this|unsupported device|error 999|LibraryNotLoaded' "$LOGS/$1.log"; then
    echo unsupported
  elif [ "$2" -ne 0 ] && [[ "$1" == ncu-* ]] &&
       grep -qiE 'LibraryNotLoaded|ERR_NVGPUCTRPERM|not supported|Failed to initialize the profiler' "$LOGS/$1.log"; then
    echo unsupported
  elif [ "$2" -eq 0 ]; then echo ok
  elif [ "$2" -eq 124 ] || [ "$2" -eq 137 ]; then echo timeout
  else echo failed
  fi
}

GPU_NAME=""; GPU_CC=""; ARCH=""; DRIVER=""; NO_GPU=""; NVCC=""
NVCC=$(find_tool nvcc || true)
CMAKE=$(command -v cmake || true)
PYTHON=$(command -v python3 || true)
NCU=$(find_tool ncu || true)
SANITIZER=$(find_tool compute-sanitizer || true)
TORCH=""
[ -n "$PYTHON" ] && TORCH=$("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null || true)

write_summary() {
  local steps="" s
  for s in "${STEPS[@]+"${STEPS[@]}"}"; do steps+="${steps:+,
    }$s"; done
  cat > "$WORK/steps.json" <<EOF
{
  "machine": {
    "gpu": $( [ -n "$GPU_NAME" ] && json_str "$GPU_NAME" || echo null ),
    "computeCapability": $(json_str "$GPU_CC"),
    "arch": $(json_str "$ARCH"),
    "driver": $(json_str "$DRIVER"),
    "nvcc": $(json_str "$NVCC"),
    "cmake": $(json_str "$CMAKE"),
    "python": $(json_str "$PYTHON"),
    "torch": $(json_str "$TORCH"),
    "ncu": $(json_str "$NCU"),
    "computeSanitizer": $(json_str "$SANITIZER"),
    "prebuilt": $(json_str "$PREBUILT"),
    "error": $( [ -n "$NO_GPU" ] && json_str "$NO_GPU" || echo null ),
    "dryRun": $( [ $DRY -eq 1 ] && echo true || echo false ),
    "seconds": $(( $(date +%s) - START ))
  },
  "steps": [
    $steps
  ]
}
EOF
  # The report needs Python only, not PyTorch; without Python the steps are the summary.
  if [ -n "$PYTHON" ] && "$PYTHON" "$ROOT/scripts/gpu_quick.py" report --bench "$WORK/bench.json" --peers "$WORK/peers.json" \
       --steps "$WORK/steps.json" --json "$OUT/summary.json" --md "$OUT/table.md" >> "$LOGS/report.log" 2>&1; then :
  else cp "$WORK/steps.json" "$OUT/summary.json"
  fi
  [ $DRY -eq 1 ] || tar -czf "$OUT/logs.tar.gz" -C "$WORK" logs $(cd "$WORK" && ls ./*.json ./*.ncu-rep 2>/dev/null) 2>/dev/null
}
trap write_summary EXIT

# --- the machine and its tools ----------------------------------------------------
detect_gpu
if [ -n "$NO_GPU" ]; then
  log "$NO_GPU"
  if [ $DRY -eq 0 ]; then exit 3; fi
  ARCH=90  # the plan of the machine this script is for (the H200)
else
  log "GPU: $GPU_NAME (compute capability $GPU_CC, sm_$ARCH), driver $DRIVER"
fi
log "nvcc: ${NVCC:-none}; cmake: ${CMAKE:-none}; python3: ${PYTHON:-none} (torch ${TORCH:-none}); ncu: ${NCU:-none}; compute-sanitizer: ${SANITIZER:-none}"

# Executables: prebuilt (carried) when present, else built here.
TESTS=""; BENCH=""
if [ -n "$PREBUILT" ]; then
  [ -x "$PREBUILT/subq_native_tests_device" ] && TESTS=$(cd "$PREBUILT" && pwd)/subq_native_tests_device
  [ -x "$PREBUILT/subq_bench_native" ] && BENCH=$(cd "$PREBUILT" && pwd)/subq_bench_native
  log "prebuilt $PREBUILT: tests ${TESTS:-missing}, bench ${BENCH:-missing}, stamp $(tr '\n' ' ' < "$PREBUILT/stamp" 2>/dev/null || echo none)"
fi
if [ -z "$TESTS" ] || [ -z "$BENCH" ]; then
  if [ -z "$NVCC" ] || [ -z "$CMAKE" ]; then
    log "no prebuilt executables and no toolkit to build them: nvcc='${NVCC}', cmake='${CMAKE}'"
    [ $DRY -eq 1 ] || exit 3
  fi
  GEN=()
  command -v ninja >/dev/null 2>&1 && GEN=(-G Ninja)
  export SUBQ_CUDA_ARCHS=$ARCH
  step configure 60 "${CMAKE:-cmake}" -S "$ROOT" -B "$WORK/build" "${GEN[@]+"${GEN[@]}"}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CUDA_COMPILER="${NVCC:-nvcc}" -DSUBQ_NATIVE_TESTS=ON -DSUBQ_NATIVE_TESTS_DEVICE=ON -DSUBQ_NATIVE_BENCH=ON
  step build 300 "${CMAKE:-cmake}" --build "$WORK/build" --target "${EXES[@]}" -j "$(nproc 2>/dev/null || echo 8)"
  [ -n "$TESTS" ] || TESTS=$(find "$WORK/build" -name subq_native_tests_device -type f -perm -u+x 2>/dev/null | head -n1)
  [ -n "$BENCH" ] || BENCH=$(find "$WORK/build" -name subq_bench_native -type f -perm -u+x 2>/dev/null | head -n1)
fi
if [ $DRY -eq 1 ]; then TESTS=${TESTS:-subq_native_tests_device}; BENCH=${BENCH:-subq_bench_native}; fi

missing() { record "$1" skipped 0 0 "$2"; }

# 1. correctness first
if [ -n "$TESTS" ]; then step native-tests 90 "$TESTS"; else missing native-tests "subq_native_tests_device did not build"; fi
# 2. our rows
if [ -n "$BENCH" ]; then step bench 120 "$BENCH" --quick --json "$WORK/bench.json"; else missing bench "subq_bench_native did not build"; fi
# 3. the peers, same shapes
if [ -n "$TORCH" ] || [ $DRY -eq 1 ]; then
  step peers 120 env PYTHONUNBUFFERED=1 "${PYTHON:-python3}" "$ROOT/scripts/gpu_quick.py" peers --json "$WORK/peers.json"
else
  missing peers "no python3 with torch"
fi
# 4. Nsight Compute, ours and PyTorch's flash at fp16 B4 H16 N4096 D128 (non-causal)
NCU_SECTIONS=(--section SpeedOfLight --section LaunchStats --section Occupancy --section InstructionStats
              --section SchedulerStats --section WarpStateStats)
if [ -n "$NCU" ] || [ $DRY -eq 1 ]; then
  NCU=${NCU:-ncu}
  if [ -n "$BENCH" ]; then
    step ncu-ours 60 "$NCU" --clock-control none "${NCU_SECTIONS[@]}" -k regex:attn_fwd -c 1 -f -o "$WORK/ours" \
      "$BENCH" --quick --filter "attention fp16 B4 H16 N4096 D128"
  fi
  if [ -n "$TORCH" ] || [ $DRY -eq 1 ]; then
    step ncu-flash 90 "$NCU" --clock-control none "${NCU_SECTIONS[@]}" -k regex:flash_fwd -c 1 -f -o "$WORK/flash" \
      "${PYTHON:-python3}" "$ROOT/scripts/gpu_quick.py" flash-once --dtype fp16 --B 4 --H 16 --N 4096 --D 128
  fi
  if [ $DRY -eq 0 ]; then
    for r in ours flash; do
      [ -f "$WORK/$r.ncu-rep" ] || continue
      { echo "===== $r: fp16 B4 H16 N4096 D128 (non-causal) ====="; "$NCU" --import "$WORK/$r.ncu-rep" --page details; echo; } >> "$OUT/ncu.txt" 2>&1
    done
  fi
else
  missing ncu-ours "ncu not found"
  missing ncu-flash "ncu not found"
fi
# 5. sanitizers on tiny shapes
if [ -n "$SANITIZER" ] || [ $DRY -eq 1 ]; then
  CS=("${SANITIZER:-compute-sanitizer}" --error-exitcode 1 --print-limit 20)
  if [ -n "$BENCH" ]; then
    step memcheck 60 "${CS[@]}" --tool memcheck "$BENCH" --check
    step racecheck 60 "${CS[@]}" --tool racecheck "$BENCH" --check
  fi
else
  missing memcheck "compute-sanitizer not found"
  missing racecheck "compute-sanitizer not found"
fi

if [ $DRY -eq 1 ]; then
  log "dry run: the plan is above; OUTDIR would get summary.json, table.md, ncu.txt, logs.tar.gz"
  exit 0
fi
log "done in $(( $(date +%s) - START ))s; summary in $OUT/summary.json"
exit $FAILED
