#!/bin/bash
# Benchmark: enrolling N members into a mesh interface (wireguard-go, UAPI, in a fresh namespace),
# host side: op-dbus's mesh (bench_mesh_enroll: per member an address allocated and persisted, a
# key generated and written, the interface read and the peer added, the member file saved) against
# `wg set IF peer KEY allowed-ips IP/32` once per member with keys made beforehand (`wg genkey |
# wg pubkey`, not timed) — the usual enrollment script. Wall clock; the ratio from this run.
# Usage: bench/mesh_enroll.sh [N]   (root)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100}
BENCH=${BENCH_MESH_ENROLL:-$PWD/build/bench/bench_mesh_enroll}
export OPDBUS=${OPDBUS:-$PWD/build/src/app/op-dbus}
. tests/integration/common.inc
. tests/integration/services.inc
command -v wireguard-go >/dev/null && command -v wg >/dev/null || skip "wireguard-go and wg are needed"
private_run "$NS"
inside() { nsenter -t "$PRIVATE" -m -n "$@"; }
now_ns() { date +%s%N; }

op_ms=$(inside "$BENCH" "$STATE" "$N")
[ "$(inside wg show wg-bench peers | wc -l)" = "$N" ] || fail "the mesh did not enroll $N peers"
inside ip link del wg-bench

inside wireguard-go wgloop 2>/dev/null
for ((i = 0; i < N; i++)); do
  echo "wg set wgloop peer $(wg genkey | wg pubkey) allowed-ips 10.65.$((i / 250)).$((i % 250 + 2))/32"
done >"$WORK/loop.sh"
t=$(now_ns)
inside sh "$WORK/loop.sh"
loop_ms=$(echo "scale=1; ($(now_ns) - $t) / 1000000" | bc)
[ "$(inside wg show wgloop peers | wc -l)" = "$N" ] || fail "wg set did not add $N peers"

printf 'op-dbus mesh, %d members one at a time (address, key, peer, saved)  %8.1f ms\n' "$N" "$op_ms"
printf 'wg set per member (%d calls, keys made beforehand)                  %8.1f ms\n' "$N" "$loop_ms"
printf 'ratio op-dbus / wg loop                                              %8.2f\n' "$(echo "$op_ms / $loop_ms" | bc -l)"
