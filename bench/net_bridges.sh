#!/bin/bash
# Benchmark: N bridges, each with a veth port and an address, created in one operation by
# `ip -batch` (iproute2, one request per line, each waiting for its ACK) and by one
# `op-dbus apply`, in two fresh network namespaces; then the no-change re-apply and a query of
# all links. Prints the figures and the ratios measured in this run.
# Usage: bench/net_bridges.sh [N]   (root; OPDBUS defaults to build/src/app/op-dbus)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
OPDBUS=${OPDBUS:-build/src/app/op-dbus}
WORK=$(mktemp -d /tmp/opdbus-bench.XXXXXX)
NS_IP="odb-ip-$$"
NS_OP="odb-op-$$"
cleanup() { ip netns del "$NS_IP" 2>/dev/null || true; ip netns del "$NS_OP" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
ip netns add "$NS_IP"
ip netns add "$NS_OP"

now_ns() { date +%s%N; }
ms_since() { echo "scale=1; ($(now_ns) - $1) / 1000000" | bc; }

for ((i = 0; i < N; i++)); do
  a=$((i / 250)) b=$((i % 250))
  echo "link add br$i type bridge"
  echo "link add v$i type veth peer name v${i}p"
  echo "link set v$i master br$i"
  echo "addr add 10.$a.$b.1/24 dev br$i"
  echo "link set br$i up"
  echo "link set v$i up"
done > "$WORK/ip.batch"

{
  printf '{"version": 1, "plugins": {"net": {"interfaces": [\n'
  for ((i = 0; i < N; i++)); do
    a=$((i / 250)) b=$((i % 250))
    [ "$i" -gt 0 ] && printf ',\n'
    printf '{"name": "br%d", "type": "bridge", "ipv4": {"address": [{"ip": "10.%d.%d.1", "prefix": 24}]}},\n' "$i" "$a" "$b"
    printf '{"name": "v%d", "type": "veth", "veth": {"peer": "v%dp"}, "master": "br%d"}' "$i" "$i" "$i"
  done
  printf '\n]}}}\n'
} > "$WORK/state.json"

# Tears a namespace's links down synchronously, so the kernel's asynchronous namespace cleanup
# does not hold the rtnl lock during the next measurement.
teardown() {
  for ((i = 0; i < N; i++)); do echo "link del br$i"; echo "link del v$i"; done > "$WORK/del.batch"
  ip -n "$1" -force -batch "$WORK/del.batch" 2>/dev/null || true
  ip netns del "$1"
  ip netns add "$1"
}

# Three rounds, alternating which tool goes first; the median of each is reported.
ip_runs=() op_runs=()
for round in 1 2 3; do
  for tool in ip op; do
    [ $((round % 2)) = 0 ] && tool=$([ $tool = ip ] && echo op || echo ip)
    if [ $tool = ip ]; then
      t=$(now_ns); ip -n "$NS_IP" -batch "$WORK/ip.batch"; ip_runs+=("$(ms_since "$t")")
      teardown "$NS_IP"
    else
      rm -rf "$WORK/sd"
      t=$(now_ns); "$OPDBUS" --netns "$NS_OP" --state-dir "$WORK/sd" apply "$WORK/state.json" > "$WORK/apply.out"
      op_runs+=("$(ms_since "$t")")
      [ $round = 3 ] || teardown "$NS_OP"
    fi
  done
done
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
ip_ms=$(median "${ip_runs[@]}")
op_ms=$(median "${op_runs[@]}")
tail -1 "$WORK/apply.out"

reapply=()
for _ in 1 2 3 4 5; do
  t=$(now_ns); "$OPDBUS" --netns "$NS_OP" --state-dir "$WORK/sd" apply "$WORK/state.json" > "$WORK/reapply.out"; reapply+=("$(ms_since "$t")")
done
grep -q "No changes" "$WORK/reapply.out" || { echo "re-apply was not a no-op" >&2; exit 1; }
query=()
for _ in 1 2 3 4 5; do
  t=$(now_ns); "$OPDBUS" --netns "$NS_OP" query -p net > "$WORK/query.json"; query+=("$(ms_since "$t")")
done
ip_query=()
for _ in 1 2 3 4 5; do
  t=$(now_ns); ip -n "$NS_OP" -j -d addr show > /dev/null; ip_query+=("$(ms_since "$t")")
done
links=$(jq '.plugins.net.interfaces | length' "$WORK/query.json")

echo
echo "net_bridges N=$N ($(nproc) cores, kernel $(uname -r))"
printf '  create  ip -batch           %8.1f ms   median of 3 (%s)\n' "$ip_ms" "${ip_runs[*]}"
printf '  create  op-dbus apply       %8.1f ms   median of 3 (%s)\n' "$op_ms" "${op_runs[*]}"
printf '                                          op-dbus/ip = %s (target <= 1.5)\n' "$(echo "scale=2; $op_ms / $ip_ms" | bc)"
printf '  re-apply (no changes)       %8.1f ms   median of 5 (target < 100)\n' "$(median "${reapply[@]}")"
printf '  query %d links (op-dbus)  %8.1f ms   median of 5 (target < 50)\n' "$links" "$(median "${query[@]}")"
printf '  ip -j -d addr show (same)   %8.1f ms   median of 5\n' "$(median "${ip_query[@]}")"
