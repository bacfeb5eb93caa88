#!/bin/bash
# The networkmanager plugin against NetworkManager running in the test's network namespace on a
# private bus: a static ethernet connection and a bridge are created and activated (iproute2
# and busctl are the oracles), a second apply is a no-op, a change and its rollback, an apply
# whose activation fails is rolled back through NetworkManager's checkpoint, and a connection
# is removed. Bad declarations are refused before anything is touched.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
command -v busctl >/dev/null || skip "busctl (used as the test oracle) is not installed"
start_private_bus
nsip link add odt-a type veth peer name odt-b
nsip link set odt-b up
start_networkmanager

nm() { "$OPDBUS" --bus "$BUS" --netns "$NS" --state-dir "$STATE" "$@"; }
v4() { nsip -j addr show dev "$1" | jq -r '[.[0].addr_info[] | select(.family == "inet") | "\(.local)/\(.prefixlen)"] | join(" ")'; }
profiles() {
  busctl --address="$BUS" call org.freedesktop.NetworkManager /org/freedesktop/NetworkManager/Settings \
    org.freedesktop.NetworkManager.Settings ListConnections
}

write_state "$WORK/up.json" <<'EOF2'
{"version": 1, "plugins": {"networkmanager": {"connections": {
  "odt-static": {"type": "ethernet", "interface": "odt-a", "state": "active",
                 "ipv4": {"method": "manual", "addresses": ["10.77.1.2/24"], "gateway": "10.77.1.1",
                          "dns": ["10.77.1.53"]},
                 "ipv6": {"method": "disabled"}},
  "odt-bridge": {"type": "bridge", "interface": "odt-br0", "state": "active", "bridge": {"stp": false},
                 "ipv4": {"method": "manual", "addresses": ["10.77.2.1/24"]}, "ipv6": {"method": "disabled"}}}}}}
EOF2
expect_rc 0 nm apply "$WORK/up.json"
expect_contains "verified"
[ "$(v4 odt-a)" = "10.77.1.2/24" ] || fail "odt-a addresses: $(v4 odt-a)"
[ "$(v4 odt-br0)" = "10.77.2.1/24" ] || fail "odt-br0 addresses: $(v4 odt-br0)"
nsip -d -j link show odt-br0 | jq -e '.[0].linkinfo.info_kind == "bridge" and .[0].linkinfo.info_data.stp_state == 0' \
  >/dev/null || fail "odt-br0 is not a bridge with STP off"
nsip -j route show default | jq -e '.[0].gateway == "10.77.1.1"' >/dev/null || fail "default route"
grep -q 'address1=10.77.1.2/24' "$WORK"/nm/conn/odt-static.nmconnection || fail "keyfile not written"

expect_rc 0 nm apply "$WORK/up.json"
expect_contains "No changes"
expect_rc 0 nm query -p networkmanager
jq -e '.plugins.networkmanager.connections["odt-static"] | .state == "active" and .ipv4.dns == ["10.77.1.53"]
  and .ipv4.addresses == ["10.77.1.2/24"] and (.uuid | length) == 36' <<<"$OUT" >/dev/null || fail "query: $OUT"

write_state "$WORK/move.json" <<'EOF2'
{"version": 1, "plugins": {"networkmanager": {"connections": {
  "odt-static": {"ipv4": {"addresses": ["10.77.1.3/24"]}}}}}}
EOF2
expect_rc 0 nm apply "$WORK/move.json"
[ "$(v4 odt-a)" = "10.77.1.3/24" ] || fail "the changed address was not re-applied: $(v4 odt-a)"
expect_rc 0 nm rollback
[ "$(v4 odt-a)" = "10.77.1.2/24" ] || fail "rollback did not restore the address: $(v4 odt-a)"

# Activation fails (no such device): everything rolls back, through NetworkManager's checkpoint.
write_state "$WORK/fails.json" <<'EOF2'
{"version": 1, "plugins": {"networkmanager": {"connections": {
  "odt-static": {"ipv4": {"addresses": ["10.77.1.9/24"]}},
  "odt-ghost": {"type": "ethernet", "interface": "odt-nope", "state": "active"}}}}}
EOF2
expect_rc 1 nm apply "$WORK/fails.json"
expect_contains "rolled back"
[ "$(v4 odt-a)" = "10.77.1.2/24" ] || fail "odt-a after the failed apply: $(v4 odt-a)"
profiles | grep -q . && expect_rc 0 nm query -p networkmanager
jq -e '.plugins.networkmanager.connections | has("odt-ghost") | not' <<<"$OUT" >/dev/null ||
  fail "the failed apply left odt-ghost behind"
checkpoints=$(busctl --address="$BUS" get-property org.freedesktop.NetworkManager \
  /org/freedesktop/NetworkManager org.freedesktop.NetworkManager Checkpoints)
[ "$checkpoints" = "ao 0" ] || fail "NetworkManager checkpoints were left behind: $checkpoints"

write_state "$WORK/remove.json" <<'EOF2'
{"version": 1, "plugins": {"networkmanager": {"connections": {"odt-bridge": {"state": "absent"}}}}}
EOF2
expect_rc 0 nm apply "$WORK/remove.json"
expect_contains "- networkmanager connection odt-bridge"
expect_rc 0 nm query -p networkmanager
jq -e '.plugins.networkmanager.connections | has("odt-bridge") | not' <<<"$OUT" >/dev/null ||
  fail "odt-bridge was not removed"

write_state "$WORK/bad.json" <<'EOF2'
{"version": 1, "plugins": {"networkmanager": {"connections": {
  "odt-static": {"ipv4": {"method": "manual", "addresses": ["10.77.1.300/24"], "gateway": "fe80::1"}},
  "odt-port": {"type": "ethernet", "interface": "odt-b", "controller": "odt-br0", "ipv4": {"method": "auto"}}}}}}
EOF2
expect_rc 2 nm apply "$WORK/bad.json"
expect_contains "bad.json:3:"
expect_contains "'10.77.1.300/24' is not an ipv4 address with a prefix length"
expect_contains "'fe80::1' is not an ipv4 address"
expect_contains "a port (controller set) has no IP configuration of its own"
[ "$(v4 odt-a)" = "10.77.1.2/24" ] || fail "a refused file changed the host"
echo "PASS: $TEST_NAME"
