#!/usr/bin/env bash
# Runs every suite and prints one closing line: "N passed, N failed".
# usage: tests/run.sh BUILD_DIR
set -u
build=${1:-build}
passed=0 failed=0
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}

count() {  # $1: log file; adds its "[  PASSED  ] N" / "[  FAILED  ] N" or "N passed, N failed"
  local p f
  p=$(grep -Eo '^\[  PASSED  \] [0-9]+' "$1" | awk '{s+=$4} END {print s+0}')
  f=$(grep -Eo '^\[  FAILED  \] [0-9]+ test' "$1" | awk '{s+=$4} END {print s+0}')
  if grep -Eq '^[a-z]*:? ?[0-9]+ passed, [0-9]+ failed' "$1"; then
    p=$((p + $(grep -Eo '[0-9]+ passed' "$1" | tail -1 | cut -d' ' -f1)))
    f=$((f + $(grep -Eo '[0-9]+ failed' "$1" | tail -1 | cut -d' ' -f1)))
  fi
  passed=$((passed + p)); failed=$((failed + f))
  echo "$p passed, $f failed"
}

for t in "$build"/tests/test_*; do
  [ -x "$t" ] || continue
  log=$(mktemp)
  printf '%-40s ' "$(basename "$t")"
  if ! "$t" >"$log" 2>&1; then
    # a crash or a failed suite that printed no count still counts as a failure
    grep -q 'FAILED' "$log" || failed=$((failed + 1))
    cat "$log"
  fi
  count "$log"
  rm -f "$log"
done

log=$(mktemp)
printf '%-40s ' "lua tests"
if ! "$build/luagan" tests/lua/run.lua >"$log" 2>&1; then
  grep -Eq '[0-9]+ failed' "$log" || failed=$((failed + 1))
  cat "$log"
fi
count "$log"
rm -f "$log"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
