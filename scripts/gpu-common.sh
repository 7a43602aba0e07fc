# Shared by scripts/gpu-check.sh and scripts/gpu-quick.sh (sourced, not run).
# The caller sets: START (epoch seconds), BUDGET (seconds), DRY (0/1), LOGS (a folder),
# LOGNAME_ (the main log's name), and declares STEPS=() and FAILED=0.
# Steps: step NAME LIMIT COMMAND... runs COMMAND with its output in $LOGS/NAME.log,
# under min(LIMIT, what is left of the budget), and records one JSON object in STEPS:
# ok | failed | timeout | skipped (and, through classify_step, any other status).

json_str() {  # JSON string literal of $1
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/}
  s=${s//$'\t'/ }
  printf '"%s"' "$s"
}

log() { printf '[%s %3ds] %s\n' "$LOGNAME_" "$(( $(date +%s) - START ))" "$*" | tee -a "$LOGS/$LOGNAME_.log"; }

record() {  # name status rc seconds detail
  STEPS+=("{\"name\": $(json_str "$1"), \"status\": \"$2\", \"rc\": $3, \"seconds\": $4, \"log\": $(json_str "logs/$1.log"), \"detail\": $(json_str "$5")}")
  if [ "$2" = failed ] || [ "$2" = timeout ]; then FAILED=1; fi
  log "$1: $2${5:+ ($5)}"
}

# The status of a finished step from its rc and log; a caller may override it
# (gpu-quick.sh: "unsupported" for a sanitizer the runtime refuses).
classify_step() {  # name rc -> prints ok | failed | timeout
  if [ "$2" -eq 0 ]; then echo ok
  elif [ "$2" -eq 124 ] || [ "$2" -eq 137 ]; then echo timeout
  else echo failed
  fi
}

step() {
  local name=$1 limit=$2; shift 2
  local left=$(( BUDGET - ($(date +%s) - START) ))
  if [ "$DRY" -eq 1 ]; then
    record "$name" skipped 0 0 "dry run: would run (limit ${limit}s): $*"
    return 0
  fi
  if [ "$left" -lt 15 ]; then
    record "$name" skipped 0 0 "out of time: ${left}s of the ${BUDGET}s budget left"
    return 125
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  log "$name: start (limit ${limit}s): $*"
  local t0
  t0=$(date +%s)
  timeout --kill-after=5 "$limit" "$@" > "$LOGS/$name.log" 2>&1
  local rc=$?
  local dt=$(( $(date +%s) - t0 ))
  local detail status
  detail=$(tail -n 3 "$LOGS/$name.log" | tr -s ' ' | cut -c1-400)
  status=$(classify_step "$name" "$rc")
  [ "$status" = timeout ] && detail="killed after ${limit}s; $detail"
  record "$name" "$status" "$rc" "$dt" "$detail"
  return $rc
}

find_tool() {  # name: on PATH, else next to nvcc, else in the usual CUDA folders
  command -v "$1" 2>/dev/null && return 0
  local d
  for d in "${NVCC:+$(dirname "$NVCC")}" /usr/local/cuda/bin /opt/cuda/bin /opt/nvidia/nsight-compute/*/; do
    [ -n "$d" ] && [ -x "$d/$1" ] && { echo "${d%/}/$1"; return 0; }
  done
  return 1
}

# Sets GPU_CC, GPU_NAME, DRIVER, ARCH from nvidia-smi, or NO_GPU with the reason.
detect_gpu() {
  if ! command -v nvidia-smi >/dev/null 2>&1; then
    NO_GPU="no GPU: nvidia-smi is not installed"
  elif ! GPU_CC=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>"$LOGS/nvidia-smi.log" | head -n1 | tr -d ' '); then
    NO_GPU="no GPU: nvidia-smi failed: $(head -c 300 "$LOGS/nvidia-smi.log")"
  elif ! [[ "$GPU_CC" =~ ^[0-9]+\.[0-9]+$ ]]; then
    NO_GPU="no GPU: nvidia-smi reported no compute capability ('$GPU_CC')"
    GPU_CC=""
  else
    GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n1)
    DRIVER=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -n1)
    ARCH=${GPU_CC/./}
    nvidia-smi > "$LOGS/nvidia-smi.log" 2>&1
  fi
}
