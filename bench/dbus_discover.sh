#!/bin/bash
# Benchmark: `op-dbus discover` over a private bus with N services (N opdbus-test-service
# processes, each with its object tree, a property of every type and methods): every name
# walked, every object introspected, the SQLite index replaced. For reference, in the same run:
# `busctl tree` (object paths of every service, nothing indexed) and a busctl loop introspecting
# each service's objects. Medians of 7 runs. Target: discover under 1 s for 50 services.
# Usage: bench/dbus_discover.sh [N]   (root; OPDBUS defaults to build/src/app/op-dbus)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50}
export OPDBUS=${OPDBUS:-$PWD/build/src/app/op-dbus}
export OPDBUS_TEST_SERVICE=${OPDBUS_TEST_SERVICE:-$PWD/build/tests/tools/opdbus-test-service}
. tests/integration/common.inc
. tests/integration/services.inc
start_private_bus
for ((i = 0; i < N; i++)); do start_test_service "org.opdbus.Bench$i"; done

now_ns() { date +%s%N; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timed() {
  local t
  t=$(now_ns)
  "$@" >/dev/null
  echo $((($(now_ns) - t) / 1000))
}
introspect_all() {
  local name path
  for ((i = 0; i < N; i++)); do
    name=org.opdbus.Bench$i
    for path in $(busctl --address="$BUS" tree --list "$name"); do
      busctl --address="$BUS" introspect "$name" "$path" >/dev/null
    done
  done
}
discover=() tree=() loop=()
for _ in $(seq 7); do
  discover+=("$(timed "$OPDBUS" --bus "$BUS" --state-dir "$STATE" discover)")
  tree+=("$(timed busctl --address="$BUS" tree)")
  loop+=("$(timed introspect_all)")
done
"$OPDBUS" --bus "$BUS" --state-dir "$STATE" --json discover >"$WORK/d.json"
services=$(jq '[.services[] | select(.running)] | length' "$WORK/d.json")
objects=$(jq '[.services[] | .objects | length] | add' "$WORK/d.json")
ms() { echo "$1 / 1000" | bc -l; }
echo "bus: $services running services, $objects objects with interfaces"
printf 'op-dbus discover (walk + index)        %8.1f ms\n' "$(ms "$(median "${discover[@]}")")"
printf 'busctl tree (paths only)               %8.1f ms\n' "$(ms "$(median "${tree[@]}")")"
printf 'busctl tree + introspect per object    %8.1f ms\n' "$(ms "$(median "${loop[@]}")")"
printf 'ratio discover / busctl introspection  %8.2f\n' \
  "$(echo "$(median "${discover[@]}") / $(median "${loop[@]}")" | bc -l)"
