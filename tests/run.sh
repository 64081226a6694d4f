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

# a short libFuzzer pass per target (the long one is `make fuzz`)
for f in "$build"/fuzz/fuzz_*; do
  [ -x "$f" ] || continue
  name=${f##*/fuzz_}
  corpus=$(mktemp -d)
  printf '%-40s ' "fuzz $name (${FUZZ_SECONDS:-10} s)"
  if "$f" -max_total_time="${FUZZ_SECONDS:-10}" -seed=1 "$corpus" "tests/fuzz/corpus/$name" >"$corpus.log" 2>&1; then
    passed=$((passed + 1)); echo "1 passed, 0 failed"
  else
    failed=$((failed + 1)); echo "0 passed, 1 failed"; tail -30 "$corpus.log"
  fi
  rm -rf "$corpus" "$corpus.log"
done

# a build of the C suites alone (make sanitize-avx2) has no luagan to run them
if [ -x "$build/luagan" ]; then
  log=$(mktemp)
  printf '%-40s ' "lua tests"
  if ! "$build/luagan" tests/lua/run.lua >"$log" 2>&1; then
    grep -Eq '[0-9]+ failed' "$log" || failed=$((failed + 1))
    cat "$log"
  fi
  count "$log"
  rm -f "$log"
else
  echo "lua tests: skipped, $build has no luagan (a build of the C suites only)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
