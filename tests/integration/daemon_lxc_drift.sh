#!/bin/bash
# `op-dbus run` keeps an LXC container in its declared state: the daemon creates and starts it;
# a container stopped behind its back (lxc-stop) is seen by the lxc watch (its cgroup vanishes),
# started again and the drift recorded; a container created behind its back is seen too (its
# directory appears; the ledger records it) and, not being declared, left alone.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
use_lxc
A=${LXC_PREFIX}d
B=${LXC_PREFIX}x
printf '{"version": 1, "plugins": {"lxc": {"containers": {"%s": {"template": "busybox",
  "config": {"lxc.init.cmd": "/bin/sleep 1000000"}}}}}}\n' "$A" >"$WORK/state.json"
"$OPDBUS" --netns "$NS" --state-dir "$STATE" --lxc-path "$LXC_PATH" --bus "unix:path=$WORK/no-bus" \
  run --state-file "$WORK/state.json" --snapshot-interval 0 >"$WORK/daemon.log" 2>&1 &
DAEMON=$!
ON_EXIT+=("stop_pid $DAEMON 10")

ledger() { "$OPDBUS" --state-dir "$STATE" --json ledger log -n 1000000 2>/dev/null || echo '[]'; }
blocks() { [ "$(ledger | jq "[.[] | select($1)] | length")" -ge "$2" ]; }
running() { [ "$(lxcns lxc-info -P "$LXC_PATH" -n "$A" -s -H 2>/dev/null)" = RUNNING ]; }

wait_for 30 running || fail "the daemon did not start $A: $(tail -5 "$WORK/daemon.log")"
wait_for 5 blocks '.action == "daemon.start"' 1 || fail "no daemon.start block"
lxcns lxc-stop -P "$LXC_PATH" -n "$A" -k
wait_for 10 running || fail "the stopped container was not started again: $(tail -5 "$WORK/daemon.log")"
wait_for 5 blocks '.action == "drift" and (tostring | contains("container stopped"))' 1 ||
  fail "no drift block naming the stop: $(ledger | jq -c '[.[] | select(.action == "drift")]')"

lxcns lxc-create -P "$LXC_PATH" -n "$B" -t busybox >/dev/null 2>&1 || fail "lxc-create failed"
wait_for 5 blocks "tostring | contains(\"$B\")" 1 || fail "the new container went unseen: $(tail -5 "$WORK/daemon.log")"
sleep 0.5
lxcns lxc-info -P "$LXC_PATH" -n "$B" >/dev/null || fail "an undeclared container was touched"
echo "PASS: $TEST_NAME"
