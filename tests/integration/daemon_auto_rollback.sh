#!/bin/bash
# anomaly.auto_rollback: the daemon's first apply defines the baseline; someone adds a route to an
# unknown network (nobody declared it; the net plugin reports every route of the namespace once
# routes are managed); the periodic
# sample flags it, and the daemon restores the last normal state through the engine (recorded as
# rollback.to naming the anomaly), which removes the route. Added again, it is rolled back again.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
nsip link set lo up
cat >"$WORK/state.json" <<'EOF2'
{"version": 1, "plugins": {"net": {"interfaces": [
  {"name": "odt-r0", "type": "bridge", "state": "up", "ipv4": {"address": [{"ip": "10.71.0.1", "prefix": 16}]}}],
  "routes": [{"destination": "10.81.0.0/16", "gateway": "10.71.0.254", "dev": "odt-r0"}]}}}
EOF2
echo '{"placement": "off", "anomaly": {"sample_interval": 1, "auto_rollback": true}}' >"$WORK/config.json"
echo '{"anomaly": {"auto_rollback": "yes"}}' >"$WORK/bad.json"
expect_rc 2 "$OPDBUS" --state-dir "$STATE" run --config "$WORK/bad.json" --state-file "$WORK/state.json"
expect_contains "anomaly.auto_rollback must be true or false"
"$OPDBUS" --netns "$NS" --state-dir "$STATE" --bus "unix:path=$WORK/no-bus" run --config "$WORK/config.json" \
  --state-file "$WORK/state.json" --snapshot-interval 0 >"$WORK/daemon.log" 2>&1 &
DAEMON=$!
ON_EXIT+=("stop_pid $DAEMON 5")
blocks() { "$OPDBUS" --state-dir "$STATE" --json ledger log -n 1000000 2>/dev/null || echo '[]'; }
baseline_ready() { grep -q "daemon.start: [0-9]* change(s) applied" "$WORK/daemon.log"; }
wait_for 10 baseline_ready || fail "the daemon did not apply: $(cat "$WORK/daemon.log")"
sleep 1.5
rollbacks() { blocks | jq '[.[] | select(.action == "rollback.to" and .refs.auto_rollback != null)] | length'; }
[ "$(rollbacks)" = 0 ] || fail "rolled back a normal state: $(blocks | jq -c '[.[].action]')"
route_gone() { [ -z "$(nsip route show 198.51.100.0/24)" ]; }
for round in 1 2; do
  nsip route add 198.51.100.0/24 via 10.71.0.254 dev odt-r0
  rolled_back() { [ "$(rollbacks)" = "$round" ] && route_gone; }
  wait_for 15 rolled_back ||
    fail "round $round: not rolled back: $(blocks | jq -c '[.[] | {action, refs}]' | tail -c 3000) $(tail -20 "$WORK/daemon.log")"
done
block=$(blocks | jq -c '[.[] | select(.action == "rollback.to")] | last')
jq -e '.refs.auto_rollback.anomalies | any(.resource == "routes[198.51.100.0/24]")' <<<"$block" >/dev/null ||
  fail "the rollback does not name the anomaly: $block"
jq -e '.refs.auto_rollback.source == "sample" and (.refs.to.height | type) == "number"' <<<"$block" >/dev/null ||
  fail "the rollback does not say why or to where: $block"
nsip link show odt-r0 >/dev/null && [ -n "$(nsip route show 10.81.0.0/16)" ] ||
  fail "the declared state went with the rollback"
grep -q "auto rollback: restored the state of block" "$WORK/daemon.log" || fail "not logged"
echo "PASS: $TEST_NAME"
