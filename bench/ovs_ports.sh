#!/bin/bash
# Benchmark: N internal ports created on one Open vSwitch bridge (ovsdb-server + ovs-vswitchd,
# userspace datapath, in a fresh namespace each round): one `op-dbus apply` (one OVSDB
# transaction, then waiting for ovs-vswitchd), against one batched `ovs-vsctl` call
# (`add-port ... -- add-port ...`, which also waits), and against `ovs-vsctl add-port` in a loop
# (each call waits for ovs-vswitchd). Wall clock, whole processes; ratios from this run.
# Usage: bench/ovs_ports.sh [N] [LOOP_N]   (root; the loop is timed over LOOP_N ports, default N)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
LOOP_N=${2:-$N}
export OPDBUS=${OPDBUS:-$PWD/build/src/app/op-dbus}
. tests/integration/common.inc
. tests/integration/services.inc
start_ovs

now_ns() { date +%s%N; }
ms_since() { echo "scale=1; ($(now_ns) - $1) / 1000000" | bc; }
vsctl() { ovs-vsctl --db="$OVSDB" "$@"; }
fresh_bridge() {
  vsctl --if-exists del-br odbbr
  vsctl add-br odbbr -- set bridge odbbr datapath_type=netdev
}

{
  printf '{"version": 1, "plugins": {"ovs": {"bridges": [{"name": "odbbr", "datapath_type": "netdev", "ports": ['
  for ((i = 0; i < N; i++)); do printf '%s{"name": "odbp%d", "type": "internal"}' "$([ $i = 0 ] || echo ,)" "$i"; done
  printf ']}]}}}\n'
} >"$WORK/ports.json"

fresh_bridge
t=$(now_ns)
"$OPDBUS" --ovsdb "$OVSDB" --netns "$NS" --state-dir "$STATE" apply "$WORK/ports.json" >/dev/null
op_ms=$(ms_since "$t")
[ "$(vsctl list-ports odbbr | wc -l)" = "$N" ] || fail "op-dbus did not create $N ports"

fresh_bridge
args=()
for ((i = 0; i < N; i++)); do args+=(-- add-port odbbr "odbp$i" -- set interface "odbp$i" type=internal); done
t=$(now_ns)
vsctl "${args[@]}"
batch_ms=$(ms_since "$t")

fresh_bridge
t=$(now_ns)
for ((i = 0; i < LOOP_N; i++)); do vsctl add-port odbbr "odbp$i" -- set interface "odbp$i" type=internal; done
loop_ms=$(ms_since "$t")

printf 'op-dbus apply (%d ports, one transaction)     %9.1f ms\n' "$N" "$op_ms"
printf 'ovs-vsctl, one batched call (%d ports)         %9.1f ms   ratio op-dbus/batched %.2f\n' "$N" "$batch_ms" "$(echo "$op_ms / $batch_ms" | bc -l)"
printf 'ovs-vsctl add-port in a loop (%d ports)        %9.1f ms   ratio op-dbus/loop    %.2f\n' "$LOOP_N" "$loop_ms" "$(echo "$op_ms * $LOOP_N / $N / $loop_ms" | bc -l)"
