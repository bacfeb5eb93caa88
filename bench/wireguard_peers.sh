#!/bin/bash
# Benchmark: adding N peers to a WireGuard interface (wireguard-go, UAPI, in a fresh namespace):
# one `op-dbus apply` declaring them (plan, checkpoint with key escrow, one UAPI set, verify,
# ledger record) against `wg set IF peer KEY allowed-ips IP` run once per peer, as enrollment
# scripts do. The interface is emptied between the two. Wall clock, whole processes; the ratio
# from this run.
# Usage: bench/wireguard_peers.sh [N]   (root)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100}
export OPDBUS=${OPDBUS:-$PWD/build/src/app/op-dbus}
. tests/integration/common.inc
. tests/integration/services.inc
command -v wireguard-go >/dev/null && command -v wg >/dev/null || skip "wireguard-go and wg are needed"

private_run "$NS"
HOLDER=$PRIVATE
inside() { nsenter -t "$HOLDER" -m -n "$@"; }
now_ns() { date +%s%N; }
ms_since() { echo "scale=1; ($(now_ns) - $1) / 1000000" | bc; }

keys=()
for ((i = 0; i < N; i++)); do keys+=("$(wg genkey | wg pubkey)"); done
ip_of() { echo "10.$((100 + $1 / 250)).$(($1 % 250)).1/32"; }
{
  printf '{"version": 1, "plugins": {"wireguard": {"interfaces": {"wgb0": {"listen_port": 51950, "peers": ['
  for ((i = 0; i < N; i++)); do
    printf '%s{"public_key": "%s", "allowed_ips": ["%s"]}' "$([ $i = 0 ] || echo ,)" "${keys[i]}" "$(ip_of $i)"
  done
  printf ']}}}}}\n'
} >"$WORK/peers.json"
printf '{"version": 1, "plugins": {"wireguard": {"interfaces": {"wgb0": {"listen_port": 51950, "peers": []}}}}}\n' >"$WORK/empty.json"

inside "$OPDBUS" --state-dir "$STATE" apply "$WORK/empty.json" >/dev/null
t=$(now_ns)
inside "$OPDBUS" --state-dir "$STATE" apply "$WORK/peers.json" >/dev/null
op_ms=$(ms_since "$t")
[ "$(inside wg show wgb0 peers | wc -l)" = "$N" ] || fail "op-dbus did not add $N peers"

inside "$OPDBUS" --state-dir "$STATE" apply "$WORK/empty.json" >/dev/null
[ "$(inside wg show wgb0 peers | wc -l)" = 0 ] || fail "peers left"
for ((i = 0; i < N; i++)); do echo "wg set wgb0 peer ${keys[i]} allowed-ips $(ip_of $i)"; done >"$WORK/loop.sh"
t=$(now_ns)
inside sh "$WORK/loop.sh"  # one nsenter, as for op-dbus; then one wg process per peer
loop_ms=$(ms_since "$t")
[ "$(inside wg show wgb0 peers | wc -l)" = "$N" ] || fail "wg set did not add $N peers"

printf 'op-dbus apply (%d peers, one UAPI set, verified, recorded)  %8.1f ms\n' "$N" "$op_ms"
printf 'wg set in a loop (%d calls)                                 %8.1f ms\n' "$N" "$loop_ms"
printf 'ratio op-dbus / wg loop                                      %8.2f\n' "$(echo "$op_ms / $loop_ms" | bc -l)"
