#!/bin/bash
# `op-dbus run --config`: the placement policy binds the daemon's loop thread to the CPUs of the
# chosen NUMA node's L3 domain (started on CPU 0 only, it is widened to the placement's CPUs), a
# changed config file is re-read and applied at runtime ("off" releases the binding), a bad one is
# refused and recorded while the daemon keeps running, SIGHUP re-reads it, and a bad config at
# start is refused with the key named. Multi-socket decisions are unit-tested on hwloc synthetic
# and XML topologies; this machine shows what one node can.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
command -v taskset >/dev/null || skip "taskset (util-linux) is not installed"
echo '{"version": 1, "plugins": {}}' >"$WORK/state.json"

echo '{"placement": "sideways"}' >"$WORK/bad.json"
expect_rc 2 "$OPDBUS" --state-dir "$STATE" run --config "$WORK/bad.json" --state-file "$WORK/state.json"
expect_contains "expected auto, off or node:N"
echo '{"placment": "auto"}' >"$WORK/typo.json"
expect_rc 2 "$OPDBUS" --state-dir "$STATE" run --config "$WORK/typo.json" --state-file "$WORK/state.json"
expect_contains "unknown key 'placment'"

# expand "0-2,5" into "0 1 2 5".
expand() { tr ',' '\n' <<<"$1" | awk -F- '{ if (NF == 2) for (i = $1; i <= $2; i++) print i; else print $1 }' | xargs; }
WANT=$("$OPDBUS" --json topology place --policy node:0 | jq -r '.cpus | join(" ")')
echo '{"placement": "node:0"}' >"$WORK/config.json"
taskset -c 0 "$OPDBUS" --netns "$NS" --state-dir "$STATE" --bus "unix:path=$WORK/no-bus" run \
  --config "$WORK/config.json" --state-file "$WORK/state.json" --snapshot-interval 0 \
  >"$WORK/daemon.log" 2>&1 &
DAEMON=$!
ON_EXIT+=("stop_pid $DAEMON 5")
wait_log() { for _ in $(seq 150); do grep -q "$1" "$WORK/daemon.log" && return 0; sleep 0.02; done; return 1; }
wait_log "placement node:0: NUMA node 0" || fail "no placement: $(cat "$WORK/daemon.log")"
allowed=$(awk '/Cpus_allowed_list/ {print $2}' "/proc/$DAEMON/task/$DAEMON/status")
[ "$(expand "$allowed")" = "$WANT" ] || fail "the loop thread runs on $allowed, not on $WANT"

echo '{"placement": "off"}' >"$WORK/config.json.new" && mv "$WORK/config.json.new" "$WORK/config.json"
wait_log "placement off: none" || fail "a changed config was not applied: $(cat "$WORK/daemon.log")"
echo '{"placement": "node:99"}' >"$WORK/config.json.new" && mv "$WORK/config.json.new" "$WORK/config.json"
wait_log "placement node:99 not applied" || fail "an impossible placement: $(cat "$WORK/daemon.log")"
echo '{"placement": 5}' >"$WORK/config.json.new" && mv "$WORK/config.json.new" "$WORK/config.json"
wait_log "config reload refused" || fail "a bad config was not refused: $(cat "$WORK/daemon.log")"
kill -0 "$DAEMON" || fail "the daemon died on a bad config"
"$OPDBUS" --state-dir "$STATE" --json ledger log -n 1000000 >"$WORK/ledger.json"
jq -e '[.[] | select(.action == "daemon.config" and (.refs.error | test("placement must be a string")))]
  | length == 1' "$WORK/ledger.json" >/dev/null || fail "the refusal is not recorded: $(cat "$WORK/ledger.json")"
echo '{"placement": "auto"}' >"$WORK/config.json.new" && mv "$WORK/config.json.new" "$WORK/config.json"
wait_log "placement auto: none (one NUMA node" ||
  wait_log "placement auto: NUMA node" || fail "auto: $(cat "$WORK/daemon.log")"
kill -HUP "$DAEMON"
wait_log "config reloaded (SIGHUP)" || fail "SIGHUP did not re-read the config"
echo "PASS: $TEST_NAME"
