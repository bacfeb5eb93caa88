#!/bin/bash
# `op-dbus --bus ADDRESS discover` on a private dbus-daemon started (and stopped by PID) here:
# lists the bus's own service with its interfaces, indexes it, and a second run with --diff
# reports nothing new; a bus that does not answer is a clear error.
. "$(dirname "$0")/common.inc"
command -v dbus-daemon >/dev/null || skip "dbus-daemon is not installed"

dbus-daemon --session --nofork --nopidfile --address="unix:path=$WORK/bus" --print-address \
  > "$WORK/address" 2>/dev/null &
DAEMON=$!
trap 'kill "$DAEMON" 2>/dev/null; wait "$DAEMON" 2>/dev/null; cleanup' EXIT
for _ in $(seq 50); do [ -s "$WORK/address" ] && break; sleep 0.1; done
ADDRESS=$(head -n 1 "$WORK/address")
[ -n "$ADDRESS" ] || fail "dbus-daemon did not print its address"

expect_rc 0 "$OPDBUS" --state-dir "$STATE" --bus "$ADDRESS" --json discover
printf '%s' "$OUT" | jq -e '.services[] | select(.name == "org.freedesktop.DBus" and .running)
  | .objects["/org/freedesktop/DBus"] | has("org.freedesktop.DBus")' >/dev/null ||
  fail "discover did not find org.freedesktop.DBus with its interface"
[ -f "$STATE/discovery.sqlite" ] || fail "no discovery index was written"
expect_rc 0 "$OPDBUS" --state-dir "$STATE" --bus "$ADDRESS" discover --diff
expect_contains "0 appeared, 0 vanished"
expect_rc 1 "$OPDBUS" --state-dir "$STATE" --bus "unix:path=$WORK/nobus" discover
expect_contains "connect to the bus"
echo "PASS: $TEST_NAME"
