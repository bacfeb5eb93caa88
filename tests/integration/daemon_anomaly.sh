#!/bin/bash
# `op-dbus run` watches for anomalies in what it manages: its first apply defines the baseline, a
# periodic sample (anomaly.sample_interval in its config) notices a route to an unknown network
# that nobody declared (the net plugin reports its whole namespace) and records it as an anomaly
# block, once however long it lasts; the Prometheus counter counts it; a bad anomaly config is
# refused at start.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
nsip link set lo up
cat >"$WORK/state.json" <<'EOF2'
{"version": 1, "plugins": {"net": {"interfaces": [
  {"name": "odt-a0", "type": "bridge", "state": "up", "ipv4": {"address": [{"ip": "10.70.0.1", "prefix": 16}]}}],
  "routes": [{"destination": "10.80.0.0/16", "gateway": "10.70.0.254", "dev": "odt-a0"}]}}}
EOF2
echo '{"placement": "off", "anomaly": {"sample_interval": 1, "threshold": 0.85}}' >"$WORK/config.json"
echo '{"anomaly": {"threshold": 2}}' >"$WORK/bad.json"
expect_rc 2 "$OPDBUS" --state-dir "$STATE" run --config "$WORK/bad.json" --state-file "$WORK/state.json"
expect_contains "anomaly.threshold must be a number from 0 to 1"
PORT=$((20000 + RANDOM % 30000))
"$OPDBUS" --netns "$NS" --state-dir "$STATE" --bus "unix:path=$WORK/no-bus" run --config "$WORK/config.json" \
  --state-file "$WORK/state.json" --snapshot-interval 0 --metrics "127.0.0.1:$PORT" >"$WORK/daemon.log" 2>&1 &
DAEMON=$!
ON_EXIT+=("stop_pid $DAEMON 5")
anomalies() { "$OPDBUS" --state-dir "$STATE" --json anomaly history -n 1000 2>/dev/null || echo '[]'; }
baseline_ready() { grep -q "daemon.start: [0-9]* change(s) applied" "$WORK/daemon.log"; }
wait_for 10 baseline_ready || fail "the daemon did not apply: $(cat "$WORK/daemon.log")"
sleep 1.5  # a sample or two of the normal state
[ "$(anomalies | jq length)" = 0 ] || fail "the normal state is an anomaly: $(anomalies)"
nsip route add 198.51.100.0/24 via 10.70.0.254 dev odt-a0
route_flagged() {
  anomalies | jq -e '[.[] | select(.refs.resource == "routes[198.51.100.0/24]" and .refs.source == "sample")]
    | length >= 1' >/dev/null
}
wait_for 10 route_flagged || fail "the unknown route was not flagged: $(anomalies) $(cat "$WORK/daemon.log")"
grep -q "anomaly in net routes\[198.51.100.0/24\]" "$WORK/daemon.log" || fail "not logged"
sleep 2.5  # more samples of the same anomalous state
[ "$(anomalies | jq '[.[] | select(.refs.resource == "routes[198.51.100.0/24]")] | length')" = 1 ] ||
  fail "a lasting anomaly was reported more than once: $(anomalies | jq -c '[.[].refs.resource]')"
ip netns exec "$NS" curl -sf "http://127.0.0.1:$PORT/metrics" | grep -q '^opdbus_anomalies_total [1-9]' ||
  fail "the metric does not count it"
echo "PASS: $TEST_NAME"
