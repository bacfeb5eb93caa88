#!/bin/bash
# A bridge with two veth ports, addresses and routes: created in one apply, seen exactly so by
# iproute2 and by `op-dbus query`, and a second apply performs zero writes.
. "$(dirname "$0")/common.inc"

write_state "$WORK/s.json" <<'JSON'
{"version": 1, "plugins": {"net": {
  "interfaces": [
    {"name": "br0", "type": "bridge", "mtu": 1400, "bridge": {"stp": false, "ports": ["p1", "p2"]},
     "ipv4": {"address": [{"ip": "10.20.0.1", "prefix": 24}]},
     "ipv6": {"address": [{"ip": "fd00:20::1", "prefix": 64}]}},
    {"name": "p1", "type": "veth", "veth": {"peer": "p1-peer"}},
    {"name": "p2", "type": "veth", "veth": {"peer": "p2-peer"}},
    {"name": "p1-peer", "ipv4": {"address": [{"ip": "10.20.0.2", "prefix": 24}]}}
  ],
  "routes": [
    {"destination": "10.30.0.0/16", "gateway": "10.20.0.254"},
    {"destination": "192.0.2.0/24", "type": "blackhole"},
    {"destination": "198.51.100.0/24", "dev": "br0", "metric": 50}
  ]}}}
JSON

expect_rc 0 op apply "$WORK/s.json"
expect_contains "Apply complete"
expect_contains "verified"

# iproute2 sees what was declared.
[ "$(nsip -j link show br0 | jq -r '.[0].mtu')" = 1400 ] || fail "br0 mtu"
[ "$(nsip -j link show p1 | jq -r '.[0].master')" = br0 ] || fail "p1 not in br0"
[ "$(nsip -j link show p2 | jq -r '.[0].master')" = br0 ] || fail "p2 not in br0"
[ "$(nsip -j -d link show br0 | jq -r '.[0].linkinfo.info_data.stp_state')" = 0 ] || fail "stp"
nsip -j addr show br0 | jq -e '.[0].addr_info[] | select(.local=="10.20.0.1" and .prefixlen==24)' >/dev/null || fail "br0 v4"
nsip -j addr show br0 | jq -e '.[0].addr_info[] | select(.local=="fd00:20::1" and .prefixlen==64)' >/dev/null || fail "br0 v6"
nsip -j addr show p1-peer | jq -e '.[0].addr_info[] | select(.local=="10.20.0.2")' >/dev/null || fail "p1-peer addr"
nsip -j link show p1-peer | jq -e '.[0].flags | index("UP")' >/dev/null || fail "p1-peer not up"
nsip -j route show 10.30.0.0/16 | jq -e '.[0].gateway=="10.20.0.254" and .[0].dev=="br0"' >/dev/null || fail "gw route"
nsip -j route show type blackhole | jq -e '.[] | select(.dst=="192.0.2.0/24")' >/dev/null || fail "blackhole"
nsip -j route show 198.51.100.0/24 | jq -e '.[0].metric==50' >/dev/null || fail "metric route"

# query reports exactly that.
op query -p net > "$WORK/q.json"
jq -e '.plugins.net.interfaces[] | select(.name=="br0") | .type=="bridge" and .mtu==1400 and .bridge.ports==["p1","p2"] and .state=="up"' "$WORK/q.json" >/dev/null || fail "query br0"
jq -e '.plugins.net.interfaces[] | select(.name=="p1") | .veth.peer=="p1-peer" and .master=="br0"' "$WORK/q.json" >/dev/null || fail "query p1"
jq -e '[.plugins.net.routes[] | .destination] == ["10.30.0.0/16","192.0.2.0/24","198.51.100.0/24"]' "$WORK/q.json" >/dev/null || fail "query routes"

# A second apply changes nothing and sends nothing.
expect_rc 0 op --json apply "$WORK/s.json"
[ "$(jq -r .outcome <<<"$OUT")" = no_changes ] || fail "second apply outcome: $OUT"
[ "$(jq -r .writes <<<"$OUT")" = 0 ] || fail "second apply wrote"
expect_rc 0 op diff "$WORK/s.json"
expect_contains "No changes"
echo "PASS: $TEST_NAME"
