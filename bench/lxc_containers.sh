#!/bin/bash
# Benchmark: creating and starting a busybox container (the busybox template, a veth on a Linux
# bridge, a static address), R rounds each: `op-dbus apply` (plan, checkpoint, liblxc create and
# start, verify, ledger record) against `lxc-create` + `lxc-start` with the same template and
# config; each container is destroyed between rounds. Wall clock, whole processes; the median
# round of each and their ratio, from this run.
# Usage: bench/lxc_containers.sh [ROUNDS]   (root)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
export OPDBUS=${OPDBUS:-$PWD/build/src/app/op-dbus}
. tests/integration/common.inc
. tests/integration/services.inc
use_lxc
nsip link add odb-br type bridge
nsip link set odb-br up

now_ns() { date +%s%N; }
ms_since() { echo "scale=1; ($(now_ns) - $1) / 1000000" | bc; }
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
name=${LXC_PREFIX}b

printf '{"version": 1, "plugins": {"lxc": {"containers": {"%s": {"template": "busybox",
  "config": {"lxc.init.cmd": "/bin/sleep 1000000"},
  "network": [{"link": "odb-br", "ipv4": "10.0.5.5/24"}]}}}}}\n' "$name" >"$WORK/up.json"
printf '{"version": 1, "plugins": {"lxc": {"containers": {"%s": {"state": "absent"}}}}}\n' \
  "$name" >"$WORK/down.json"
cat >"$WORK/lxc.conf" <<CONF
lxc.net.0.type = veth
lxc.net.0.link = odb-br
lxc.net.0.flags = up
lxc.net.0.ipv4.address = 10.0.5.5/24
lxc.init.cmd = /bin/sleep 1000000
CONF

op_rounds=() lxc_rounds=()
for ((round = 0; round < ROUNDS; round++)); do
  t=$(now_ns)
  op --lxc-path "$LXC_PATH" apply "$WORK/up.json" >/dev/null
  op_rounds+=("$(ms_since "$t")")
  [ "$(lxcns lxc-info -P "$LXC_PATH" -n "$name" -s -H)" = RUNNING ] || fail "op-dbus did not start it"
  op --lxc-path "$LXC_PATH" apply "$WORK/down.json" >/dev/null

  t=$(now_ns)
  lxcns lxc-create -P "$LXC_PATH" -n "$name" -f "$WORK/lxc.conf" -t busybox >/dev/null 2>&1
  lxcns lxc-start -P "$LXC_PATH" -n "$name"
  lxc_rounds+=("$(ms_since "$t")")
  [ "$(lxcns lxc-info -P "$LXC_PATH" -n "$name" -s -H)" = RUNNING ] || fail "lxc-start did not start it"
  lxcns lxc-stop -P "$LXC_PATH" -n "$name" -k
  lxcns lxc-destroy -P "$LXC_PATH" -n "$name" >/dev/null
done
op_ms=$(printf '%s\n' "${op_rounds[@]}" | median)
lxc_ms=$(printf '%s\n' "${lxc_rounds[@]}" | median)
printf 'op-dbus apply (create + start, verified, recorded)  %8.1f ms  (rounds: %s)\n' "$op_ms" "${op_rounds[*]}"
printf 'lxc-create + lxc-start                              %8.1f ms  (rounds: %s)\n' "$lxc_ms" "${lxc_rounds[*]}"
printf 'ratio op-dbus / lxc tools                           %8.2f\n' "$(echo "$op_ms / $lxc_ms" | bc -l)"
