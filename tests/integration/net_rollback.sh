#!/bin/bash
# A change that fails halfway (links already changed, then a route whose gateway is
# unreachable) is rolled back completely: the namespace ends exactly as it started. Then a
# successful apply is undone by `op-dbus rollback`.
. "$(dirname "$0")/common.inc"

nsip link add e0 type veth peer name e1
nsip link set e0 mtu 1500 up
nsip addr add 10.50.0.1/24 dev e0
nsip route add 10.51.0.0/16 via 10.50.0.254
before=$(state_fingerprint)

write_state "$WORK/bad.json" <<'JSON'
{"version": 1, "plugins": {"net": {
  "interfaces": [
    {"name": "e0", "mtu": 1300, "ipv4": {"address": [{"ip": "10.50.0.9", "prefix": 24}]}},
    {"name": "newbr", "type": "bridge", "bridge": {"ports": ["e1"]}}
  ],
  "routes": [
    {"destination": "10.51.0.0/16", "state": "absent"},
    {"destination": "10.60.0.0/16", "gateway": "203.0.113.1"}
  ]}}}
JSON
expect_rc 1 op apply "$WORK/bad.json"
expect_contains "rolled back"
expect_contains "route 10.60.0.0/16"
after=$(state_fingerprint)
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") >&2; fail "namespace not restored"; }

write_state "$WORK/good.json" <<'JSON'
{"version": 1, "plugins": {"net": {
  "interfaces": [{"name": "e0", "mtu": 1300}, {"name": "newbr", "type": "bridge", "bridge": {"ports": ["e1"]}}],
  "routes": [{"destination": "10.51.0.0/16", "state": "absent"}]}}}
JSON
expect_rc 0 op apply "$WORK/good.json"
[ "$(nsip -j link show e0 | jq -r '.[0].mtu')" = 1300 ] || fail "mtu not applied"
expect_rc 0 op rollback
expect_contains "Rolled back"
after=$(state_fingerprint)
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") >&2; fail "rollback did not restore"; }
expect_rc 1 op rollback
expect_contains "nothing to roll back"
echo "PASS: $TEST_NAME"
