#!/bin/bash
# The op-dbus walkthrough: creates a throw-away network namespace, applies examples/demo.json
# into it, queries it, re-applies (no changes), shows drift being corrected, a change that
# reverts itself, the ledger and its verification, snapshots and point-in-time rollback, and a
# tampered ledger being caught; then removes the namespace. Nothing outside the namespace and a temp state dir is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
OPDBUS=${OPDBUS:-build/src/app/op-dbus}
NS="opdbus-demo-$$"
STATE=$(mktemp -d /tmp/opdbus-demo.XXXXXX)
cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -rf "$STATE"; }
trap cleanup EXIT

bold() { if [ -t 1 ]; then printf '\n\033[1m%s\033[0m\n' "$*"; else printf '\n%s\n' "$*"; fi; }
run() {
  printf '$ %s\n' "$*"
  local rc=0
  "$@" || rc=$?
  printf '[exit %s]\n' "$rc"
}
op() { "$OPDBUS" --netns "$NS" --state-dir "$STATE" "$@"; }

[ "$(id -u)" = 0 ] || { echo "the demo needs root to create a network namespace" >&2; exit 1; }
bold "# A private network namespace is the sandbox: $NS"
ip netns add "$NS"

bold "# What can op-dbus manage here?"
run op doctor

bold "# The desired state (examples/demo.json): a bridge, a veth pair, a macvlan, addresses, routes"
cat examples/demo.json

bold "# What would change? (exit 3: changes pending)"
run op diff examples/demo.json

bold "# Apply it: checkpoint, apply in dependency order, verify by re-reading the kernel"
run op apply examples/demo.json

bold "# The kernel now has it (op-dbus query, normalised, in the state file's own layout)"
op query -p net | jq -c '.plugins.net.interfaces[] | {name, type, state, mtu, master, ipv4, ipv6}'
op query -p net | jq -c '.plugins.net.routes[]'

bold "# Apply again: converged, zero writes"
run op apply examples/demo.json

bold "# Someone changes the host behind our back (iproute2 in the sandbox)"
run ip -n "$NS" link set br0 mtu 1280
run ip -n "$NS" addr del 10.10.0.1/24 dev br0
run op diff examples/demo.json
run op apply examples/demo.json

bold "# A bad file is refused before anything is touched (exit 2), naming line, column and path"
printf '{"version": 1, "plugins": {"net": {"interfaces": [\n  {"name": "br0", "mtu": "jumbo"}]}}}\n' > "$STATE/bad.json"
run op apply "$STATE/bad.json"

bold "# A change applied with --no-commit reverts by itself unless committed"
run op apply examples/demo-change.json --no-commit --timeout 3
run ip -n "$NS" -br link show
printf '(not committing; waiting 4 s)\n'
sleep 4
run ip -n "$NS" -br link show
run op diff examples/demo.json

bold "# Every change is a block in a tamper-evident ledger (hash chain, Merkle tree, signed checkpoints)"
run op ledger log
run op ledger verify

bold "# The state after each change is kept as a read-only snapshot; return to any recorded point"
run op snapshot list
run op apply examples/demo-change.json
run op rollback --to 0
run op diff examples/demo.json

bold "# Tampering is detected: one changed byte in block 1 of the ledger"
offset=$(( $(head -n 1 "$STATE/ledger/blocks.jsonl" | wc -c) + 30 ))
printf 'X' | dd of="$STATE/ledger/blocks.jsonl" bs=1 seek="$offset" conv=notrunc status=none
run op ledger verify

bold "# Done: removing the sandbox"
