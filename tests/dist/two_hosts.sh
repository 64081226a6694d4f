#!/usr/bin/env bash
# Two machines simulated on one: network namespaces lg-a (10.77.0.1) and
# lg-b (10.77.0.2) joined by a veth pair, one rank in each, Open MPI's TCP
# transport between them (no shared memory), its daemon started in lg-b by an
# "rsh agent" that enters the namespace instead of ssh.  Trains
# experiments/dcgan.lua (tiny nets, batch 16) and checks that
#   - the run across the namespaces writes the same metrics.csv, byte for
#     byte, as 2 ranks on one host over shared memory (the transport changes
#     nothing), and
#   - its first 100 iterations are those of 1 process at the same global
#     batch within 1e-5 (relative; later the GAN's own dynamics amplify the
#     rounding of the batch-norm sums, which 2 ranks add in another order).
# usage: tests/dist/two_hosts.sh [BUILD_DIR] [ITERS]   (as root; ~1 minute)
# Skips (exit 0, with a message) where namespaces cannot be made.
set -u
cd "$(dirname "$0")/../.."
build=${1:-build} iters=${2:-200}
luagan=$PWD/$build/luagan
flags="--threads 1 --iters $iters --batch 16 --size 28 --ngf 4 --ndf 4 --nz 16 --dataset mnist10k --sample_every 0 --checkpoint_every 0"
[ -x "$luagan" ] || { echo "two_hosts: $luagan missing: run make" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "skip: mpirun not installed"; exit 0; }
tmp=$(mktemp -d)
cleanup() { ip netns del lg-a 2>/dev/null; ip netns del lg-b 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
if ! { ip netns add lg-a && ip netns add lg-b; } 2>"$tmp/err"; then
  echo "skip: cannot create network namespaces: $(cat "$tmp/err")"
  exit 0
fi
set -e
ip link add lg-va type veth peer name lg-vb
ip link set lg-va netns lg-a
ip link set lg-vb netns lg-b
ip -n lg-a addr add 10.77.0.1/24 dev lg-va
ip -n lg-b addr add 10.77.0.2/24 dev lg-vb
for ns in lg-a lg-b; do ip -n $ns link set lo up; done
ip -n lg-a link set lg-va up
ip -n lg-b link set lg-vb up
cat > "$tmp/agent" <<'AGENT'
#!/bin/sh
# Open MPI calls "agent HOST COMMAND...": run COMMAND in HOST's namespace
host=$1; shift
case $host in
  10.77.0.1) ns=lg-a ;;
  10.77.0.2) ns=lg-b ;;
  *) echo "agent: unknown host $host" >&2; exit 1 ;;
esac
exec ip netns exec "$ns" sh -c "$*"
AGENT
chmod +x "$tmp/agent"
printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n' > "$tmp/hosts"
set +e

export OMPI_MCA_btl_vader_single_copy_mechanism=none
echo "two_hosts: $iters iterations of dcgan.lua, 1 rank in each namespace over TCP"
ip netns exec lg-a timeout -s KILL 600 mpirun --allow-run-as-root -np 2 --hostfile "$tmp/hosts" \
  --mca plm_rsh_agent "$tmp/agent" --mca btl tcp,self \
  --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 \
  "$luagan" experiments/dcgan.lua $flags --out "$tmp/two_hosts" > "$tmp/two_hosts.log" 2>&1 \
  || { cat "$tmp/two_hosts.log"; echo "two_hosts: FAILED (the run across namespaces)"; exit 1; }
timeout -s KILL 600 mpirun --allow-run-as-root --oversubscribe -np 2 \
  "$luagan" experiments/dcgan.lua $flags --out "$tmp/one_host" > "$tmp/one_host.log" 2>&1 \
  || { cat "$tmp/one_host.log"; echo "two_hosts: FAILED (2 ranks on one host)"; exit 1; }
"$luagan" experiments/dcgan.lua $flags --out "$tmp/one_rank" > "$tmp/one_rank.log" 2>&1 \
  || { cat "$tmp/one_rank.log"; echo "two_hosts: FAILED (1 process)"; exit 1; }
grep -H 'iterations in' "$tmp/two_hosts.log" "$tmp/one_host.log" | sed "s|$tmp/||"

fail=0
if cmp -s "$tmp/two_hosts/metrics.csv" "$tmp/one_host/metrics.csv"; then
  echo "two_hosts: metrics.csv across namespaces = 2 ranks on one host, byte for byte: ok"
else
  echo "two_hosts: metrics.csv differs between the two transports: FAILED"; fail=1
fi
worst=$(awk -F, 'NR == FNR { if (FNR > 1) for (i = 2; i <= NF; i++) a[FNR, i] = $i; next }
  FNR > 1 && FNR <= 101 { for (i = 2; i <= NF; i++) { d = $i - a[FNR, i]; if (d < 0) d = -d
    s = a[FNR, i] < 0 ? -a[FNR, i] : a[FNR, i]; if (s < 1e-6) s = 1e-6; if (d / s > w) w = d / s } }
  END { printf "%.3g", w + 0 }' "$tmp/one_rank/metrics.csv" "$tmp/two_hosts/metrics.csv")
if awk -v w="$worst" 'BEGIN { exit !(w < 1e-5) }'; then
  echo "two_hosts: first 100 iterations against 1 process: largest relative difference $worst: ok"
else
  echo "two_hosts: first 100 iterations against 1 process: largest relative difference $worst: FAILED"; fail=1
fi
exit $fail
