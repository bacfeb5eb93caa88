#!/bin/bash
# `op-dbus run` keeps a namespace in its declared state, event-driven: an address deleted behind
# its back (by `ip`) is restored within a second and the drift is recorded with who made it; a
# change to an observe item is recorded and left alone; a changed state file is reloaded and
# applied; a bad one is refused and recorded while the old state stays enforced; an agent that
# keeps deleting the address meets exponential back-off instead of a spinning daemon; SIGTERM
# stops it cleanly.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"

nsip link add odt-o0 type bridge
nsip link set odt-o0 mtu 1400 up
state() {  # ADDRESS
  cat <<EOF2
{"version": 1, "plugins": {"net": {"interfaces": [
  {"name": "odt-d0", "type": "bridge", "state": "up", "ipv4": {"address": [{"ip": "$1", "prefix": 24}]}},
  {"name": "odt-o0", "mtu": 1400, "mode": "observe"}]}}}
EOF2
}
state 10.66.0.1 >"$WORK/state.json"
nsip link set lo up
PORT=$((20000 + RANDOM % 30000))

expect_rc 2 "$OPDBUS" --state-dir "$STATE" run --metrics 0.0.0.0:9
expect_contains "only loopback addresses"
"$OPDBUS" --netns "$NS" --state-dir "$STATE" --bus "unix:path=$WORK/no-bus" run \
  --state-file "$WORK/state.json" --snapshot-interval 0 --metrics "127.0.0.1:$PORT" \
  >"$WORK/daemon.log" 2>&1 &
DAEMON=$!
ON_EXIT+=("stop_pid $DAEMON 5")

ledger() { "$OPDBUS" --state-dir "$STATE" --json ledger log -n 1000000 2>/dev/null || echo '[]'; }
count() { ledger | jq "[.[] | select($1)] | length"; }
# wait_for SECONDS CONDITION...: polls the condition every 20 ms (this is the test, not the daemon).
has_address() { nsip -j addr show dev odt-d0 2>/dev/null | jq -e --arg ip "$1" '[.[0].addr_info[].local] | index($ip) != null' >/dev/null; }
blocks() { [ "$(count "$1")" -ge "$2" ]; }

wait_for 10 has_address 10.66.0.1 || fail "the daemon did not apply the state file: $(cat "$WORK/daemon.log")"
wait_for 5 blocks '.action == "daemon.start"' 1 || fail "no daemon.start block"

start=$(date +%s%N)
nsip addr del 10.66.0.1/24 dev odt-d0
wait_for 1 has_address 10.66.0.1 || fail "the deleted address was not restored within 1 s"
echo "restored after $((($(date +%s%N) - start) / 1000000)) ms"
wait_for 2 blocks '.action == "reconcile"' 1 || fail "no reconcile block"
ledger | jq -e '[.[] | select(.action == "drift")][0] | .actor.interface == "external"
  and (.actor.process | test("\\(ip\\)$")) and .result.enforce == 1 and .result.observe == 0' >/dev/null ||
  fail "the drift block does not name ip as the changer: $(ledger | jq -c '[.[] | select(.action == "drift")]')"

metrics=$(ip netns exec "$NS" curl -sf "http://127.0.0.1:$PORT/metrics") || fail "no /metrics"
grep -Eq '^opdbus_reapplies_total [1-9]' <<<"$metrics" || fail "metrics: $metrics"
grep -Eq '^opdbus_reconcile_latency_seconds_count [1-9]' <<<"$metrics" || fail "metrics: $metrics"
grep -Eq '^opdbus_ledger_height [1-9]' <<<"$metrics" || fail "metrics: $metrics"

nsip link set odt-o0 mtu 1300
wait_for 2 blocks '.action == "drift" and .result.observe == 1' 1 || fail "observe drift not recorded"
sleep 0.3
[ "$(nsip -j link show odt-o0 | jq '.[0].mtu')" = 1300 ] || fail "the daemon changed an observe item"

state 10.66.0.2 >"$WORK/next.json"
mv "$WORK/next.json" "$WORK/state.json"
wait_for 3 has_address 10.66.0.2 || fail "the changed state file was not applied: $(tail -5 "$WORK/daemon.log")"
has_address 10.66.0.1 && fail "the old address stayed"
wait_for 2 blocks '.action == "daemon.reload"' 1 || fail "no daemon.reload block"

echo '{"version": 1, "plugins": {"net": {"interfaces": [{"name": 5}]}}}' >"$WORK/bad.json"
mv "$WORK/bad.json" "$WORK/state.json"
wait_for 3 blocks '.action == "daemon.reload" and .refs.error != null' 1 || fail "the bad reload was not recorded"
nsip addr del 10.66.0.2/24 dev odt-d0
wait_for 2 has_address 10.66.0.2 || fail "the previous state is no longer enforced after a bad reload"
state 10.66.0.2 >"$WORK/good.json"
mv "$WORK/good.json" "$WORK/state.json"
kill -HUP "$DAEMON"
wait_for 3 blocks '.action == "daemon.reload" and .refs.error == null' 3 ||
  fail "SIGHUP did not reload: $(ledger | jq -c '[.[] | select(.action == "daemon.reload") | .refs]')"

# A fighting agent: deleting the address every 50 ms for 3 s.
before=$(count '.action == "reconcile"')
end=$(($(date +%s) + 3))
while [ "$(date +%s)" -lt "$end" ]; do nsip addr del 10.66.0.2/24 dev odt-d0 2>/dev/null || true; sleep 0.05; done
fought=$(($(count '.action == "reconcile"') - before))
[ "$fought" -le 6 ] || fail "the daemon re-applied $fought times in 3 s against a fighting agent"
wait_for 10 has_address 10.66.0.2 || fail "the address was not restored after the agent stopped"
grep -q "backing off" "$WORK/daemon.log" || fail "no back-off was logged"

kill -TERM "$DAEMON"
wait_for 5 bash -c "! kill -0 $DAEMON 2>/dev/null || [ \"\$(awk '{print \$3}' /proc/$DAEMON/stat)\" = Z ]" ||
  fail "the daemon did not stop on SIGTERM"
wait "$DAEMON" || fail "the daemon exited with $? on SIGTERM"
echo "PASS: $TEST_NAME"
