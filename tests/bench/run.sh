#!/usr/bin/env bash
# luagan vs PyTorch (and vs OpenBLAS called directly), side by side, in one run.
# usage: tests/bench/run.sh [BUILD_DIR] [--only NAME[,NAME...]] [--isa avx2]    (`make bench` calls it)
#        BENCH_ONLY=NAME[,NAME...] does the same as --only (`make bench BENCH_ONLY=dcgan-28`).
#        NAME is a workload: add1 linear16 sgemm1024 memloop mlp-gan toy-gan dcgan-28 dcgan-28-gp
#        refiner unet convlayers conv3d dist ssgan aae lapgan ebgan began cgan text2img crypto simgan adagan vgan srgan pix2pix
#
# --isa avx2 (`make bench-avx2`): an AVX2-only machine's numbers on any x86-64 one.
#            BUILD_DIR must hold a build for Haswell (make BUILD=build-avx2
#            OPT="-O3 -march=haswell -mtune=haswell" all); the per-layer timer and the
#            direct sgemm are compiled for Haswell too, and PyTorch runs with
#            DNNL_MAX_CPU_ISA=AVX2 and ATEN_CPU_CAPABILITY=avx2.  The cap on oneDNN is
#            what makes the comparison fair: PyTorch's convolutions are oneDNN's
#            JIT kernels, which pick AVX-512 whenever the CPU has it, whatever
#            ATEN_CPU_CAPABILITY says (DNNL_VERBOSE=1 shows jit:avx512_core without
#            the cap, jit:avx2 with it).
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
#   luaganspin: dcgan-28 once more at 2 threads with GOMP_SPINCOUNT=100000: the
#            workers spin about a millisecond before they sleep.  luagan waits
#            passively by default (lua/main.c: spinning threads made a loaded machine
#            10-60x slower), and then every parallel region and barrier (13 and 3 a
#            step) pays a futex wake-up; on an idle machine the spin is worth 5-8% at
#            2 threads, on a shared one it loses (README, Threads); counted in luagan's best.
#   pairs:   dcgan-28's 2-thread speed-up once more, from 1- and 2-thread blocks of
#            steps back to back in one process (bench.lua dcgan-28-pairs): on a
#            shared VM two processes minutes apart meet different neighbours, and
#            their ratio moved between 1.37 and 2.15; the pairs' median does not
#            depend on which spell each side fell in.  Once more with the spin
#            (luaganspin_dcgan-28-pairs): the speed-up the spin buys, on the same terms.
#   torchstock: the GAN workloads once more at 2 threads without that LD_LIBRARY_PATH
#            (Debian's stock torch + OpenBLAS: two thread pools), fewer iterations;
#            informative, and counted in PyTorch's best should it ever win
# The GAN workloads: mlp-gan, dcgan-28 and its WGAN-GP variant dcgan-28-gp;
# and toy-gan, the 2-D mixture experiments' step (the project's bar: no
# experiment more than 2x slower than PyTorch, hence its target 0.5) (see
# bench.lua): it/s and peak RSS; the parameter counts and shapes of G and D
# printed by both sides must agree (a mismatch is a failure: the two sides would
# not be computing the same thing).  Their timed loops stop after ~30 s (the
# block crossing it) so that a loaded machine cannot stretch `make bench` to hours;
# on an idle one every block runs (~3-4 minutes for everything).
# convlayers: every conv shape of dcgan-28, refiner, unet and simgan timed alone (forward,
# input gradient, weight gradient): tests/bench/conv_layers.c (built here against
# BUILD_DIR/libluagan_core.a) against bench_torch.py convlayers, GFLOP/s and % of
# the measured FMA peak per layer.
# dist: data-parallel scaling of mlp-gan and dcgan-28 (luagan only, global batch 64):
# 1 process x 1 thread, 1 process x 2 threads and 2 processes x 1 thread (mpirun -np 2,
# lg.dist: each rank 32 rows, gradients averaged by one MPI_Allreduce per network and
# step, SyncBatchNorm); the speed-up over 1 x 1, the allreduce's share of the step, the
# bytes per step and the time a rank waits for the other before it (bench.lua: a barrier);
# docs/distributed.md turns them into a bandwidth model.  Then, at 2 x 1, the step
# time with one flat allreduce against dist.wrap's buckets (bucket_mb, started during
# backward; BENCH_DIST_BUCKETS lists the sizes), without bench.lua's barrier.  Skipped
# with a note without mpirun or an Open MPI build.
# Beside every number: the 1-minute load average when the run started and
# "others", the cores used by other processes during the run (busy time from
# /proc/stat minus the CPU time of the benchmark process; steal included).
# memloop is 20,000 iterations for luagan (the full memory test) and 5,000 for torch
# (see bench_torch.py); us/iter is per iteration either way.
# Output: `name: value unit` lines, then one ratio line per workload computed from
# each side's best configuration (thread count; for torch also the stock pool).
# Targets are printed beside the ratios; nothing here fails on time.  The exit
# status is non-zero only when a workload did not run (or the GAN workloads of
# the two sides do not have the same parameters).
set -u
all_workloads="add1 linear16 sgemm1024 memloop mlp-gan toy-gan dcgan-28 dcgan-28-gp refiner unet convlayers conv3d dist ssgan aae lapgan ebgan began cgan text2img crypto simgan adagan vgan srgan pix2pix"
gan_workloads="mlp-gan toy-gan dcgan-28 dcgan-28-gp refiner unet ssgan aae lapgan ebgan began cgan text2img crypto simgan adagan vgan srgan pix2pix"
build=build
only=${BENCH_ONLY:-}
isa=native
while [ $# -gt 0 ]; do
  case $1 in
    --only) [ $# -ge 2 ] || { echo "run.sh: --only needs a workload name" >&2; exit 2; }
            only=$2; shift 2 ;;
    --only=*) only=${1#--only=}; shift ;;
    --isa) [ "${2:-}" = avx2 ] || { echo "run.sh: --isa takes avx2" >&2; exit 2; }
           isa=avx2; shift 2 ;;
    -h|--help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) build=$1; shift ;;
  esac
done
if [ -n "$only" ]; then
  workloads=""
  for w in ${only//,/ }; do
    case " $all_workloads " in
      *" $w "*) workloads+="$w " ;;
      *) echo "run.sh: unknown workload '$w' (valid: $all_workloads)" >&2; exit 2 ;;
    esac
  done
else
  workloads=$all_workloads
fi
# selected NAME: is NAME one of the workloads to run?
selected() { case " $workloads " in *" $1 "*) return 0 ;; esac; return 1; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 1
blasdir=/usr/lib/x86_64-linux-gnu/openblas-openmp
threads="1 2"
status=0
march=-march=native
if [ "$isa" = avx2 ]; then
  march="-march=haswell -mtune=haswell"
  export DNNL_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2
fi
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# ------------------------------------------------------------ the direct sgemm
direct="$build/sgemm_direct"
if selected sgemm1024 && { [ ! -x "$direct" ] || [ "$here/sgemm_direct.c" -nt "$direct" ]; }; then
  mkdir -p "$build"
  ${CC:-cc} -std=c11 -O2 $march -Wall -Wextra -Werror \
    -I/usr/include/x86_64-linux-gnu/openblas-openmp "$here/sgemm_direct.c" -o "$direct" \
    -L"$blasdir" -Wl,-rpath,"$blasdir" -lopenblas -fopenmp || { echo "bench: cannot build $direct"; status=1; }
fi

# ------------------------------------------------------------ the per-layer conv timer
convl="$build/conv_layers"
if selected convlayers && { [ ! -x "$convl" ] || [ "$here/conv_layers.c" -nt "$convl" ] ||
                             [ "$build/libluagan_core.a" -nt "$convl" ]; }; then
  ${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 $march -Wall -Wextra -Werror -fopenmp -Icore \
    -I/usr/include/x86_64-linux-gnu/openblas-openmp "$here/conv_layers.c" -o "$convl" \
    "$build/libluagan_core.a" -L"$blasdir" -Wl,-rpath,"$blasdir" -lopenblas -ljpeg -lz -lmvec -lm \
    || { echo "bench: cannot build $convl"; status=1; }
fi

# value NAME FILE: the number after "NAME:" in FILE (empty when absent)
value() { awk -v k="$1:" '$1 == k { print $2; exit }' "$2" 2>/dev/null; }

# busy_jiffies: CPU time used by everything on the machine so far (/proc/stat)
busy_jiffies() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
# child_cpu: CPU seconds of this shell's finished children (the 2nd line of bash's
# `times`, which must run in this shell, not in a $(...) subshell)
child_cpu() {
  times >"$log/times"
  awk 'NR == 2 {
    n = split($0, f, " "); s = 0
    for (i = 1; i <= n; i++) { v = f[i]; sub(/s$/, "", v); split(v, ms, "m"); s += ms[1] * 60 + ms[2] }
    print s }' "$log/times"
}
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)

# run TAG LIMIT_KB CMD...: runs one workload, keeps its output in $log/TAG and,
# in $log/TAG.load, "load L, others X cores": the 1-minute load average at the
# start and the cores other processes kept busy while it ran
run() {
  local tag=$1 limit=$2 rc load0 j0 c0 t0 j1 c1 t1; shift 2
  load0=$(cut -d' ' -f1 /proc/loadavg); j0=$(busy_jiffies); child_cpu >"$log/c0"; t0=$(date +%s.%N)
  ( [ "$limit" -gt 0 ] && ulimit -v "$limit"; exec timeout 300 "$@" ) >"$log/$tag" 2>&1
  rc=$?
  j1=$(busy_jiffies); child_cpu >"$log/c1"; t1=$(date +%s.%N)
  c0=$(cat "$log/c0"); c1=$(cat "$log/c1")
  awk -v l="$load0" -v j0="$j0" -v j1="$j1" -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v hz="$hz" \
    'BEGIN { o = ((j1 - j0) / hz - (c1 - c0)) / (t1 - t0); if (o < 0) o = 0
             printf "load %s, others %.2f cores\n", l, o }' >"$log/$tag.load"
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
# load_of TAG: what run wrote in $log/TAG.load
load_of() { cat "$log/$1.load" 2>/dev/null || echo "not run"; }

echo "== luagan vs PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)' 2>/dev/null)" \
     "on $(nproc) cores; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
echo "   timing: wall clock after a warm-up; best of 5 blocks (memloop: one loop); see bench.lua"
echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every number;"
echo "   beside each number: the load at its start and the cores other processes used during it)"

echo "   workloads: $workloads"
[ "$isa" = avx2 ] && echo "   isa: AVX2 ($build built for Haswell; PyTorch with DNNL_MAX_CPU_ISA=AVX2)"
for t in $threads; do
  for w in $workloads; do
    [ "$w" = dist ] && continue   # its own section below
    # memloop with no GC accounting would take the machine's memory: cap the
    # address space at 8 GB so that it fails with an allocation error instead.
    limit=0; [ "$w" = memloop ] && limit=8388608
    if [ "$w" = convlayers ]; then
      run "luagan_${w}_t$t" 0 env OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t "$convl" "$t"
    else
      run "luagan_${w}_t$t" "$limit" env OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t \
        "$build/luagan" tests/bench/bench.lua "$w" "$t"
    fi
    # dcgan-28 once more with the workers spinning before they sleep (see the header)
    if [ "$t" = 2 ] && [ "$w" = dcgan-28 ]; then
      run "luaganspin_${w}_t$t" 0 env OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t \
        GOMP_SPINCOUNT=100000 "$build/luagan" tests/bench/bench.lua "$w" "$t"
      # and the speed-up from 1- and 2-thread blocks back to back in one process
      run "luagan_${w}-pairs_t$t" 0 env OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t \
        "$build/luagan" tests/bench/bench.lua "$w-pairs" "$t"
      run "luaganspin_${w}-pairs_t$t" 0 env OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t \
        GOMP_SPINCOUNT=100000 "$build/luagan" tests/bench/bench.lua "$w-pairs" "$t"
    fi
    run "torch_${w}_t$t" 0 env OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t \
      LD_LIBRARY_PATH="$blasdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
      /usr/bin/python3 tests/bench/bench_torch.py "$w" "$t"
    # the direct reference right after luagan's and torch's, under the same load
    if [ "$w" = sgemm1024 ] && [ -x "$direct" ]; then
      run "direct_sgemm1024_t$t" 0 env OMP_NUM_THREADS=$t "$direct" "$t" 40
    fi
    # torch's stock configuration (two pools), fewer iterations: it is slow
    if [ "$t" = 2 ]; then
      case $w in
        mlp-gan|toy-gan|ssgan|aae|ebgan|began|cgan|text2img|crypto|adagan) n=100 ;; dcgan-28|refiner|unet|simgan|vgan|srgan|pix2pix) n=10 ;; lapgan) n=20 ;; dcgan-28-gp) n=5 ;; *) n="" ;;
      esac
      if [ -n "$n" ]; then
        run "torchstock_${w}_t$t" 0 env OMP_NUM_THREADS=$t \
          /usr/bin/python3 tests/bench/bench_torch.py "$w" "$t" "$n"
      fi
    fi
  done
done

# configs SIDE: the tags' "SIDE_..._tN" prefixes of one side ("torch" includes torchstock)
configs() {
  case $1 in
    torch) echo "torch_t1 torch_t2 torchstock_t2" ;;
    luagan) echo "luagan_t1 luagan_t2 luaganspin_t2" ;;
    *) local t; for t in $threads; do echo "$1_t$t"; done ;;
  esac
}
# tag CONFIG WORKLOAD: torch_t2 + mlp-gan -> torch_mlp-gan_t2
tag() { echo "${1%_t*}_${2}_${1##*_}"; }
# label CONFIG: t2 / t2 stock
label() { case $1 in torchstock_*) echo "${1##*_} stock" ;; luaganspin_*) echo "${1##*_} spin" ;;
  *) echo "${1##*_}" ;; esac; }

# best SIDE WORKLOAD KEY min|max: best value over the side's configurations,
# "value label" (label: t1, t2, or "t2 stock")
best() {
  local side=$1 w=$2 key=$3 how=$4 c v out=""
  for c in $(configs "$side"); do
    [ -f "$log/$(tag "$c" "$w")" ] || continue
    v=$(value "$key" "$log/$(tag "$c" "$w")")
    [ -n "$v" ] || continue
    out+="$v $(label "$c")"$'\n'
  done
  [ -n "$out" ] || return 0
  if [ "$how" = min ]; then printf '%s' "$out" | sort -g | head -1
  else printf '%s' "$out" | sort -g | tail -1; fi
}

# show SIDE WORKLOAD KEY UNIT: one line per thread count, with the load
show() {
  local side=$1 w=$2 key=$3 unit=$4 t v
  for t in $threads; do
    v=$(value "$key" "$log/${side}_${w}_t$t")
    echo "${side}_${key}_t$t: ${v:-n/a} $unit   ($(load_of "${side}_${w}_t$t"))"
  done
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.3f", a / b }'; }
# verdict RATIO OP TARGET: "met" / "not met" (informative only)
verdict() {
  awk -v r="$1" -v op="$2" -v t="$3" 'BEGIN {
    if (r == "n/a") { print "n/a"; exit }
    if (op == "<=") ok = (r + 0 <= t + 0); else if (op == "<") ok = (r + 0 < t + 0); else ok = (r + 0 >= t + 0)
    print ok ? "met" : "not met" }'
}

echo
for w in add1 linear16; do
  selected $w || continue
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

# conv3d: the 3-D layers of a video GAN, forward and backward (bench.lua)
w=conv3d
if selected $w; then
  show luagan $w $w ms/iter; show torch $w $w ms/iter
  read -r lb lt <<<"$(best luagan $w $w min)"
  read -r tb tt <<<"$(best torch $w $w min)"
  echo "luagan_${w}_best: ${lb:-n/a} ms/iter (${lt:-})"
  echo "torch_${w}_best: ${tb:-n/a} ms/iter (${tt:-})"
  echo "ratio $w (luagan/torch time): $(ratio "${lb:-}" "${tb:-}")"
  echo
fi

w=sgemm1024
if selected $w; then
  show luagan $w $w GFLOP/s; show torch $w $w GFLOP/s
  for t in $threads; do
    echo "direct_sgemm1024_t$t: $(awk '$1 == "sgemm_direct:" { print $2 }' "$log/direct_sgemm1024_t$t" 2>/dev/null) GFLOP/s   ($(load_of "direct_sgemm1024_t$t"))"
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
fi

w=memloop
if selected $w; then
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
  echo
fi

# ------------------------------------------------------------ convlayers
# One row per conv shape and pass: each side's best GFLOP/s over its thread
# counts, luagan's as a % of its threads' measured peak (fma_peak x threads,
# from the same run), and luagan/torch.
w=convlayers
if selected $w; then
  for t in $threads; do
    echo "luagan_fma_peak_t$t: $(value fma_peak "$log/luagan_${w}_t$t") GFLOP/s per core   ($(load_of "luagan_${w}_t$t"))"
    echo "torch_convlayers_t$t: ($(load_of "torch_${w}_t$t"))"
  done
  awk -v threads="$threads" '
    FNR == 1 { f = FILENAME; side = (f ~ /\/luagan_/) ? "luagan" : "torch"; t = f; sub(/.*_t/, "", t) }
    $1 == "fma_peak:" { peak[t] = $2 }
    $1 ~ /^convlayer_/ {
      k = $1; sub(/^convlayer_/, "", k); sub(/:$/, "", k)
      if (!(k in seen)) { seen[k] = 1; order[++n] = k }
      if ($2 + 0 > best[side, k] + 0) { best[side, k] = $2; bt[side, k] = t }
    }
    END {
      printf "%-30s %-6s %9s %4s %7s %9s %4s %7s\n", "convlayer", "pass", "luagan", "thr", "%peak", "torch", "thr", "ratio"
      for (i = 1; i <= n; i++) {
        k = order[i]; name = k; pass = k; sub(/\.[^.]*$/, "", name); sub(/.*\./, "", pass)
        l = best["luagan", k]; tt = best["torch", k]; lt = bt["luagan", k]
        pct = (l != "" && peak[lt] > 0) ? sprintf("%.1f%%", 100 * l / (peak[lt] * lt)) : "n/a"
        r = (l != "" && tt + 0 > 0) ? sprintf("%.2f", l / tt) : "n/a"
        printf "%-30s %-6s %9s %4s %7s %9s %4s %7s\n", name, pass, l == "" ? "n/a" : l, "t" lt, pct,
               tt == "" ? "n/a" : tt, "t" bt["torch", k], r
      }
    }' $(for t in $threads; do for s in luagan torch; do
           [ -f "$log/${s}_${w}_t$t" ] && echo "$log/${s}_${w}_t$t"; done; done)
  echo
fi

# ------------------------------------------------------------ the GAN workloads
# target_of WORKLOAD: the speed target (luagan it/s over PyTorch's best)
target_of() { case $1 in mlp-gan) echo 1.3 ;; toy-gan) echo 0.5 ;; dcgan-28|refiner) echo 1.5 ;;
  unet) echo 1.2 ;; *) echo 1.0 ;; esac; }
# line_of KEY FILE: the text after "KEY: " in FILE
line_of() { awk -v k="$1:" '$1 == k { sub(/^[^:]*: /, ""); print; exit }' "$2" 2>/dev/null; }
# commas N: 1234567 -> 1,234,567
commas() { awk -v n="$1" 'BEGIN { s = ""; while (length(n) > 3) { s = "," substr(n, length(n) - 2) s; n = substr(n, 1, length(n) - 3) } print n s }'; }

# paired W PREFIX NAME LABEL: the "ratio NAME" line of PREFIX_W-pairs_t2
# (bench.lua W-pairs): the median, each pair's ratio and the load
paired() {
  local f="$log/$2_$1-pairs_t2" r pairs
  r=$(value "$1-pairs" "$f"); r=${r:-n/a}
  pairs=$(awk -v k="$1-pairs_ratios:" '$1 == k { $1 = ""; print substr($0, 2) }' "$f" 2>/dev/null)
  echo "ratio $3 ($4: ${pairs:-n/a}): $r   [target >= 1.8: $(verdict "$r" ">=" 1.8)]   ($(load_of "$2_$1-pairs_t2"))"
}

for w in $gan_workloads; do
  selected $w || continue
  # the two sides must build the same networks: parameter counts and shapes
  for net in G D; do
    ref=""; refc=""; bad=""
    for c in $(configs luagan) $(configs torch); do
      f="$log/$(tag "$c" "$w")"
      [ -f "$f" ] || continue
      v=$(line_of "${w}_${net}_params" "$f")
      [ -n "$v" ] || continue
      if [ -z "$ref" ]; then ref=$v; refc=$c
      elif [ "$v" != "$ref" ]; then bad+="    $(tag "$c" "$w"): $v"$'\n'; fi
    done
    if [ -z "$ref" ]; then
      echo "params ${w} ${net}: n/a"
    elif [ -n "$bad" ]; then
      echo "params ${w} ${net}: MISMATCH between luagan and PyTorch (the workloads differ)"
      echo "    $(tag "$refc" "$w"): $ref"; printf '%s' "$bad"
      status=1
    else
      echo "params ${w} ${net}: $(commas "${ref%% *}") in both ${ref#* } (luagan and PyTorch agree)"
    fi
  done
  for c in $(configs luagan) $(configs torch); do
    tg=$(tag "$c" "$w")
    [ -f "$log/$tg" ] || continue
    v=$(value "$w" "$log/$tg"); r=$(value "${w}_peak_rss" "$log/$tg")
    echo "${tg}: ${v:-n/a} it/s, peak RSS ${r:-n/a} MB   ($(load_of "$tg"))"
  done
  read -r lb lt <<<"$(best luagan "$w" "$w" max)"
  read -r tb tt <<<"$(best torch "$w" "$w" max)"
  echo "luagan_${w}_best: ${lb:-n/a} it/s (${lt:-})"
  echo "torch_${w}_best: ${tb:-n/a} it/s (${tt:-})"
  target=$(target_of "$w")
  r=$(ratio "${lb:-}" "${tb:-}")
  echo "ratio $w (luagan/torch it/s, best vs best): $r   [target >= $target: $(verdict "$r" ">=" "$target")]"
  # a second core must pay: luagan at 2 threads against itself at 1
  r=$(ratio "$(value "$w" "$log/luagan_${w}_t2")" "$(value "$w" "$log/luagan_${w}_t1")")
  if [ "$w" = dcgan-28 ]; then
    echo "ratio ${w}_threads (luagan t2/t1 it/s): $r   [target >= 1.8: $(verdict "$r" ">=" 1.8)]"
    r=$(ratio "$(value "$w" "$log/luaganspin_${w}_t2")" "$(value "$w" "$log/luagan_${w}_t1")")
    echo "ratio ${w}_threads_spin (luagan t2 spin/t1 it/s): $r   [target >= 1.8: $(verdict "$r" ">=" 1.8)]"
    paired "$w" luagan "${w}_threads_paired" \
      "luagan t2/t1, median of 1- and 2-thread blocks back to back in one process"
    paired "$w" luaganspin "${w}_threads_paired_spin" "the same with GOMP_SPINCOUNT=100000"
  else
    echo "ratio ${w}_threads (luagan t2/t1 it/s): $r"
  fi
  # peak RSS: luagan's largest over its configurations against torch's smallest
  read -r lr _ <<<"$(best luagan "$w" "${w}_peak_rss" max)"
  read -r tr _ <<<"$(best torch "$w" "${w}_peak_rss" min)"
  r=$(ratio "${lr:-}" "${tr:-}")
  # the conv workloads: under a quarter of PyTorch's; the others: below it
  case $w in dcgan-28|refiner|unet|simgan|vgan|srgan|pix2pix) rt=0.25 ;; *) rt=1 ;; esac
  echo "ratio ${w}_peak_rss (luagan largest / torch smallest): $r" \
       "(${lr:-n/a} MB / ${tr:-n/a} MB)   [target < $rt: $(verdict "$r" "<" "$rt")]"
  echo
done

# ------------------------------------------------------------ data parallel
if selected dist; then
  if ! command -v mpirun >/dev/null 2>&1 ||
     [ "$("$build/luagan" -e 'print(lg.dist.info().mpi)' 2>/dev/null)" != true ]; then
    echo "dist: skipped (needs mpirun and a luagan built with Open MPI: make deps-build)"
  else
    # root needs --allow-run-as-root, 2 ranks on few cores --oversubscribe; a
    # container's ptrace rules refuse the shared-memory single copy
    mpi="mpirun -np 2 --oversubscribe --allow-run-as-root"
    # bucket sizes (MB) for the flat-vs-bucketed lines; a "poke0" suffix
    # turns off the MPI_Test in the hooks
    dist_buckets=${BENCH_DIST_BUCKETS:-"1 0.25 1poke0"}
    for w in mlp-gan dcgan-28; do
      run "dist_${w}_1x1" 0 env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
        "$build/luagan" tests/bench/bench.lua "$w" 1
      run "dist_${w}_1x2" 0 env OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 \
        "$build/luagan" tests/bench/bench.lua "$w" 2
      run "dist_${w}_2x1" 0 env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
        OMPI_MCA_btl_vader_single_copy_mechanism=none \
        $mpi "$build/luagan" tests/bench/bench.lua "$w" 1
      base=$(value "$w" "$log/dist_${w}_1x1")
      for c in 1x1 1x2 2x1; do
        f="$log/dist_${w}_$c"; v=$(value "$w" "$f")
        extra=""
        if [ $c = 2x1 ]; then
          extra=", allreduce $(line_of "${w}_allreduce_share" "$f"), $(line_of "${w}_allreduce_bytes" "$f"),"
          extra+=" wait $(line_of "${w}_wait_share" "$f")"
        fi
        echo "dist $w ${c/x/ process(es) x } thread(s): ${v:-n/a} it/s, speed-up $(ratio "${v:-}" "${base:-}")$extra   ($(load_of "dist_${w}_$c"))"
      done
      # one flat allreduce against buckets started during backward, without
      # the barrier (it would move the buckets' transfers on by itself)
      for b in flat $dist_buckets; do
        tag="dist_${w}_2x1_$b"
        if [ "$b" = flat ]; then mbenv=""; else mbenv="BENCH_BUCKET_MB=${b%poke0}"; fi
        pokeenv=""; case $b in *poke0) pokeenv="BENCH_POKE=0" ;; esac
        run "$tag" 0 env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 BENCH_BARRIER=0 $mbenv $pokeenv \
          OMPI_MCA_btl_vader_single_copy_mechanism=none \
          $mpi "$build/luagan" tests/bench/bench.lua "$w" 1
        f="$log/$tag"; v=$(value "$w" "$f")
        ms=$(awk -v v="${v:-0}" 'BEGIN { if (v > 0) printf "%.2f", 1000 / v; else print "n/a" }')
        what="one flat allreduce"
        [ "$b" != flat ] && what="bucketed, $(line_of "${w}_buckets" "$f")"
        echo "dist $w 2 x 1, $what: ${v:-n/a} it/s, step ${ms} ms, allreduce $(line_of "${w}_allreduce_share" "$f")   ($(load_of "$tag"))"
      done
    done
  fi
fi

exit $status
