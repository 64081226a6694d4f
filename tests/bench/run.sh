#!/usr/bin/env bash
# luagan vs PyTorch (and vs OpenBLAS called directly), side by side, in one run.
# usage: tests/bench/run.sh BUILD_DIR        (`make bench` calls it)
#
# Every workload runs in its own process (so that VmHWM belongs to that
# workload alone), at 1 and at 2 threads:
#   luagan:  BUILD_DIR/luagan tests/bench/bench.lua WORKLOAD T, with OMP_NUM_THREADS=T
#            (bench.lua also calls lg.set_num_threads(T))
#   torch:   /usr/bin/python3 tests/bench/bench_torch.py WORKLOAD T, with OMP_NUM_THREADS=T
#            and LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp, so torch and
#            OpenBLAS share one OpenMP pool
#   direct:  BUILD_DIR/sgemm_direct T (tests/bench/sgemm_direct.c, built here against
#            the openblas-openmp libopenblas, rpath pinned to that directory)
# memloop is 20,000 iterations for luagan (the full memory test) and 5,000 for torch
# (see bench_torch.py); us/iter is per iteration either way.
# Output: `name: value unit` lines, then one ratio line per workload computed from
# each side's best thread count.  Targets are printed beside the ratios; nothing
# here fails on time.  The exit status is non-zero only when a workload did not run.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 1
blasdir=/usr/lib/x86_64-linux-gnu/openblas-openmp
threads="1 2"
workloads="add1 linear16 sgemm1024 memloop"
status=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# ------------------------------------------------------------ the direct sgemm
direct="$build/sgemm_direct"
if [ ! -x "$direct" ] || [ "$here/sgemm_direct.c" -nt "$direct" ]; then
  mkdir -p "$build"
  ${CC:-cc} -std=c11 -O2 -march=native -Wall -Wextra -Werror \
    -I/usr/include/x86_64-linux-gnu/openblas-openmp "$here/sgemm_direct.c" -o "$direct" \
    -L"$blasdir" -Wl,-rpath,"$blasdir" -lopenblas -fopenmp || { echo "bench: cannot build $direct"; status=1; }
fi

# value NAME FILE: the number after "NAME:" in FILE (empty when absent)
value() { awk -v k="$1:" '$1 == k { print $2; exit }' "$2" 2>/dev/null; }

# run TAG LIMIT_KB CMD...: runs one workload, keeps its output in $log/TAG
run() {
  local tag=$1 limit=$2 rc; shift 2
  ( [ "$limit" -gt 0 ] && ulimit -v "$limit"; exec timeout 300 "$@" ) >"$log/$tag" 2>&1
  rc=$?
  if [ $rc -ne 0 ]; then
    case $rc in
      124) echo "$tag: FAILED (timed out after 300 s)" ;;
      13[0-9]) echo "$tag: FAILED (killed by signal $((rc - 128)))" ;;
      *) echo "$tag: FAILED (exit status $rc)" ;;
    esac
    sed 's/^/    /' "$log/$tag" | tail -5
    status=1
    return 1
  fi
}

echo "== luagan vs PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)' 2>/dev/null)" \
     "on $(nproc) cores; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
echo "   timing: wall clock after a warm-up; best of 5 blocks (memloop: one loop); see bench.lua"
echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every number)"

for t in $threads; do
  for w in $workloads; do
    # memloop with no GC accounting would take the machine's memory: cap the
    # address space at 8 GB so that it fails with an allocation error instead.
    limit=0; [ "$w" = memloop ] && limit=8388608
    run "luagan_${w}_t$t" "$limit" env OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t \
      "$build/luagan" tests/bench/bench.lua "$w" "$t"
    run "torch_${w}_t$t" 0 env OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t \
      LD_LIBRARY_PATH="$blasdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
      /usr/bin/python3 tests/bench/bench_torch.py "$w" "$t"
    # the direct reference right after luagan's and torch's, under the same load
    if [ "$w" = sgemm1024 ] && [ -x "$direct" ]; then
      run "direct_sgemm1024_t$t" 0 env OMP_NUM_THREADS=$t "$direct" "$t" 40
    fi
  done
done

# best SIDE WORKLOAD KEY min|max: best value over thread counts, "value tN"
best() {
  local side=$1 w=$2 key=$3 how=$4 t v out=""
  for t in $threads; do
    v=$(value "$key" "$log/${side}_${w}_t$t")
    [ -n "$v" ] || continue
    out+="$v t$t"$'\n'
  done
  [ -n "$out" ] || return 0
  if [ "$how" = min ]; then printf '%s' "$out" | sort -g | head -1
  else printf '%s' "$out" | sort -g | tail -1; fi
}

# show SIDE WORKLOAD KEY UNIT: one line per thread count
show() {
  local side=$1 w=$2 key=$3 unit=$4 t v
  for t in $threads; do
    v=$(value "$key" "$log/${side}_${w}_t$t")
    echo "${side}_${key}_t$t: ${v:-n/a} $unit"
  done
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.3f", a / b }'; }
# verdict RATIO OP TARGET: "met" / "not met" (informative only)
verdict() {
  awk -v r="$1" -v op="$2" -v t="$3" 'BEGIN {
    if (r == "n/a") { print "n/a"; exit }
    ok = (op == "<=") ? (r + 0 <= t + 0) : (r + 0 >= t + 0); print ok ? "met" : "not met" }'
}

echo
for w in add1 linear16; do
  unit="us/iter"; [ $w = add1 ] && unit="us/op"
  target=0.3; [ $w = linear16 ] && target=0.2
  show luagan $w $w "$unit"; show torch $w $w "$unit"
  read -r lb lt <<<"$(best luagan $w $w min)"
  read -r tb tt <<<"$(best torch $w $w min)"
  echo "luagan_${w}_best: ${lb:-n/a} $unit (${lt:-})"
  echo "torch_${w}_best: ${tb:-n/a} $unit (${tt:-})"
  r=$(ratio "${lb:-}" "${tb:-}")
  echo "ratio $w (luagan/torch time): $r   [target <= $target: $(verdict "$r" "<=" $target)]"
  echo
done

w=sgemm1024
show luagan $w $w GFLOP/s; show torch $w $w GFLOP/s
for t in $threads; do
  echo "direct_sgemm1024_t$t: $(awk '$1 == "sgemm_direct:" { print $2 }' "$log/direct_sgemm1024_t$t" 2>/dev/null) GFLOP/s"
done
read -r lb lt <<<"$(best luagan $w $w max)"
read -r tb tt <<<"$(best torch $w $w max)"
db=""; dt=""
for t in $threads; do
  v=$(awk '$1 == "sgemm_direct:" { print $2 }' "$log/direct_sgemm1024_t$t" 2>/dev/null)
  if [ -n "$v" ] && { [ -z "$db" ] || awk -v a="$v" -v b="$db" 'BEGIN { exit !(a > b) }'; }; then db=$v; dt=t$t; fi
done
echo "luagan_sgemm1024_best: ${lb:-n/a} GFLOP/s (${lt:-})"
echo "torch_sgemm1024_best: ${tb:-n/a} GFLOP/s (${tt:-})"
echo "direct_sgemm1024_best: ${db:-n/a} GFLOP/s (${dt:-})"
r=$(ratio "${lb:-}" "$db")
echo "ratio sgemm1024 (luagan/direct GFLOP/s): $r   [target >= 0.9: $(verdict "$r" ">=" 0.9)]"
for t in $threads; do
  a=$(value sgemm1024 "$log/luagan_sgemm1024_t$t")
  b=$(awk '$1 == "sgemm_direct:" { print $2 }' "$log/direct_sgemm1024_t$t" 2>/dev/null)
  echo "ratio sgemm1024_t$t (luagan/direct GFLOP/s, same threads): $(ratio "$a" "$b")"
done
echo "ratio sgemm1024 (luagan/torch GFLOP/s): $(ratio "${lb:-}" "${tb:-}")"
echo

w=memloop
show luagan $w memloop us/iter; show luagan $w memloop_peak_rss MB; show luagan $w memloop_rss_before MB
show torch $w memloop us/iter; show torch $w memloop_peak_rss MB; show torch $w memloop_rss_before MB
for t in $threads; do
  m=$(grep '^memloop_lg_memory:' "$log/luagan_memloop_t$t" 2>/dev/null)
  [ -n "$m" ] && echo "luagan_${m/memloop_lg_memory:/memloop_lg_memory_t$t:}"
done
read -r lb lt <<<"$(best luagan $w memloop min)"
read -r tb tt <<<"$(best torch $w memloop min)"
echo "luagan_memloop_best: ${lb:-n/a} us/iter (${lt:-})"
echo "torch_memloop_best: ${tb:-n/a} us/iter (${tt:-})"
echo "ratio memloop (luagan/torch time): $(ratio "${lb:-}" "${tb:-}")"
# peak RSS growth over the loop (peak - RSS before), worst thread count of each side
growth() {
  local side=$1 t p b out=""
  for t in $threads; do
    p=$(value memloop_peak_rss "$log/${side}_memloop_t$t"); b=$(value memloop_rss_before "$log/${side}_memloop_t$t")
    [ -n "$p" ] && [ -n "$b" ] && out+="$(awk -v p="$p" -v b="$b" 'BEGIN { printf "%.1f", p - b }')"$'\n'
  done
  [ -n "$out" ] && printf '%s' "$out" | sort -g | tail -1
}
lg_g=$(growth luagan); th_g=$(growth torch)
echo "luagan_memloop_rss_growth: ${lg_g:-n/a} MB (peak - before, worst thread count)"
echo "torch_memloop_rss_growth: ${th_g:-n/a} MB (peak - before, worst thread count)"
echo "ratio memloop_rss_growth (luagan/torch): $(ratio "${lg_g:-}" "${th_g:-}")"

exit $status
