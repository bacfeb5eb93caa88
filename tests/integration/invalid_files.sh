#!/bin/bash
# Bad desired-state files exit 2 with a message naming file:line:column, the JSON pointer and
# what was expected, and change nothing on the host.
. "$(dirname "$0")/common.inc"

nsip link add v0 type veth peer name v1
before=$(state_fingerprint)

printf '{"version": 1,\n "plugins": {"net": {"interfaces": [\n   {"name": "x0", "type": "bridge",}\n ]}}}\n' > "$WORK/syntax.json"
expect_rc 2 op apply "$WORK/syntax.json"
expect_contains "syntax.json:3:"
expect_contains "invalid JSON"

printf '{"version": 1, "plugins": {"nett": {}}}\n' > "$WORK/plugin.json"
expect_rc 2 op apply "$WORK/plugin.json"
expect_contains "unknown plugin 'nett' (known plugins: "
expect_contains " net,"

printf '{"version": 1,\n "plugins": {"net": {"interfaces": [\n  {"name": "v0",\n   "mtu": "big"}]}}}\n' > "$WORK/type.json"
expect_rc 2 op apply "$WORK/type.json"
expect_contains "type.json:4:4: /plugins/net/interfaces/0/mtu: expected integer, got string \"big\""

printf 'version: 1\nplugins:\n  net:\n    interfaces:\n      - name: v0\n        colour: blue\n' > "$WORK/field.yaml"
expect_rc 2 op apply "$WORK/field.yaml"
expect_contains "field.yaml:6:9: /plugins/net/interfaces/0/colour: unknown field 'colour'"

printf '{"version": 1, "plugins": {"net": {"routes": [{"destination": "10.1.2.3/8", "dev": "v0"}]}}}\n' > "$WORK/hostbits.json"
expect_rc 2 op diff "$WORK/hostbits.json"
expect_contains "did you mean '10.0.0.0/8'"

printf '{"version": 1, "plugins": {"net": {"interfaces": [{"name": "nosuch"}]}}}\n' > "$WORK/notype.json"
expect_rc 2 op apply "$WORK/notype.json"
expect_contains "/plugins/net/interfaces/0: interface 'nosuch' does not exist; declare its 'type'"

expect_rc 2 op apply "$WORK/missing.json"
expect_contains "missing.json"
expect_rc 2 op apply
expect_rc 2 op frobnicate

after=$(state_fingerprint)
[ "$before" = "$after" ] || fail "a bad file changed the host"
[ ! -f "$STATE/checkpoints/last.json" ] || fail "a bad file left a checkpoint"
echo "PASS: $TEST_NAME"
