#!/bin/bash
# "state": "absent" removes links, addresses (by leaving them out of a declared list) and routes;
# items not named in the desired state are left alone.
. "$(dirname "$0")/common.inc"

nsip link add keep0 type veth peer name keep1
nsip link add gone0 type veth peer name gone1
nsip link add br9 type bridge
nsip link set br9 up
nsip addr add 10.40.0.1/24 dev br9
nsip addr add 10.40.0.2/24 dev br9
nsip route add 10.41.0.0/16 via 10.40.0.254
before_keep=$(nsip -j link show keep0 | jq -c '.[0] | {ifname, mtu, address}')

write_state "$WORK/s.yaml" <<'YAML'
version: 1
plugins:
  net:
    interfaces:
      - name: gone0
        state: absent
      - name: br9
        ipv4:
          address:
            - {ip: 10.40.0.1, prefix: 24}
    routes:
      - destination: 10.41.0.0/16
        state: absent
YAML

expect_rc 3 op diff "$WORK/s.yaml"
expect_contains "- net link gone0 (remove)"
expect_contains "- net address 10.40.0.2/24 on br9 (remove)"
expect_contains "- net route 10.41.0.0/16 table 254 metric 0 (remove)"
expect_rc 0 op apply "$WORK/s.yaml"
! nsip link show gone0 2>/dev/null || fail "gone0 still exists"
! nsip link show gone1 2>/dev/null || fail "gone1 (peer) still exists"
[ "$(nsip -j addr show br9 | jq -c '[.[0].addr_info[] | select(.family=="inet") | .local]')" = '["10.40.0.1"]' ] || fail "br9 addresses"
[ -z "$(nsip route show 10.41.0.0/16)" ] || fail "route still there"
[ "$(nsip -j link show keep0 | jq -c '.[0] | {ifname, mtu, address}')" = "$before_keep" ] || fail "undeclared link changed"
expect_rc 0 op apply "$WORK/s.yaml"
expect_contains "No changes"
echo "PASS: $TEST_NAME"
