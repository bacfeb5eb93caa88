#!/bin/bash
# `op-dbus anomaly scan|history|baseline` on the test's namespace: the first scan defines the
# baseline; containers coming and going (veth pairs with addresses in a known network) are not
# anomalies; a route to an unknown network is (exit 6), recorded in the ledger with its score and
# the most similar normal state; accepting it makes it normal; reset + learn start over; the
# vectors survive in STATE_DIR/vectors between runs.
. "$(dirname "$0")/common.inc"
nsip link set lo up
nsip link add odt-br0 type bridge
nsip link set odt-br0 up
nsip addr add 10.50.0.1/16 dev odt-br0
container() {  # N: a veth pair with an address in 10.50.1.0/24
  nsip link add "odt-ct$1" type veth peer name "odt-cp$1"
  nsip addr add "10.50.1.$1/24" dev "odt-ct$1"
  nsip link set "odt-ct$1" up
  nsip link set "odt-cp$1" up
}
for i in 1 2 3; do container $i; done
nsip route add 10.60.0.0/16 via 10.50.0.254 dev odt-br0

expect_rc 0 op anomaly scan -p net
expect_contains "No anomalies"
nsip link del odt-ct3
container 4
expect_rc 0 op anomaly scan -p net
nsip route add 198.51.100.0/24 via 10.50.0.254 dev odt-br0
expect_rc 6 op anomaly scan -p net
expect_contains "routes[198.51.100.0/24]"
op --json anomaly history >"$WORK/history.json"
jq -e 'length == 1 and .[0].action == "anomaly" and .[0].plugins == ["net"]
  and .[0].refs.resource == "routes[198.51.100.0/24]" and .[0].refs.score > 0.15
  and .[0].refs.nearest.resource == "routes[10.60.0.0/16]" and .[0].refs.source == "scan"' \
  "$WORK/history.json" >/dev/null || fail "history: $(cat "$WORK/history.json")"
expect_rc 0 op anomaly baseline accept "$(jq '.[0].refs.vector' "$WORK/history.json")"
expect_rc 0 op anomaly scan -p net
expect_rc 0 op --json anomaly baseline reset -p net
[ "$(jq '.baseline | length' <<<"$OUT")" = 0 ] || fail "reset left a baseline: $OUT"
expect_rc 0 op --json anomaly baseline learn -p net
[ "$(jq '.baseline.net' <<<"$OUT")" = 1 ] || fail "learn: $OUT"
expect_rc 0 op anomaly scan -p net
expect_rc 2 op anomaly scan --threshold 7
op --json ledger log -n 1000000 | jq -e '[.[] | select(.action == "anomaly.baseline")] | length == 3' \
  >/dev/null || fail "baseline changes are not all recorded"
expect_rc 0 op ledger verify
[ -f "$STATE/vectors/index.sqlite" ] && [ -f "$STATE/vectors/active.f32" ] || fail "no vector store"
echo "PASS: $TEST_NAME"
