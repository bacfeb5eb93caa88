#!/bin/bash
# `op-dbus query > s.json && op-dbus apply s.json` is a no-op, as is applying the starting file
# `init --introspect` writes; diff exit codes follow terraform's -detailed-exitcode.
. "$(dirname "$0")/common.inc"

nsip link add b1 type bridge
nsip link add q0 type veth peer name q1
nsip link set q0 master b1
nsip link set b1 up
nsip link set q0 up
nsip addr add 10.80.0.1/24 dev b1
nsip addr add fd00:80::1/64 dev b1
nsip addr add 10.80.0.5/24 dev b1 valid_lft 3600 preferred_lft 1800
nsip route add 10.81.0.0/16 via 10.80.0.254 metric 7
nsip route add 2001:db8:81::/48 via fd00:80::fe
nsip route add unreachable 203.0.113.0/24

op query > "$WORK/q.json"
expect_rc 0 op diff "$WORK/q.json"
expect_contains "No changes"
expect_rc 0 op --json apply "$WORK/q.json"
[ "$(jq -r .writes <<<"$OUT")" = 0 ] || fail "query round trip wrote"

expect_rc 0 op init --introspect -o "$WORK/init.json"
jq -e '[.plugins.net.interfaces[] | has("index")] | any | not' "$WORK/init.json" >/dev/null || fail "read-only fields in init"
expect_rc 0 op apply "$WORK/init.json"
expect_contains "No changes"
expect_rc 2 op init --introspect -o "$WORK/init.json"
expect_contains "not overwriting"

jq '(.plugins.net.interfaces[] | select(.name=="b1") | .mtu) = 1280' "$WORK/q.json" > "$WORK/changed.json"
expect_rc 3 op diff "$WORK/changed.json"
expect_contains "mtu                1500 -> 1280"
expect_rc 3 op apply --dry-run "$WORK/changed.json"
[ "$(nsip -j link show b1 | jq -r '.[0].mtu')" = 1500 ] || fail "dry run changed the host"
echo "PASS: $TEST_NAME"
