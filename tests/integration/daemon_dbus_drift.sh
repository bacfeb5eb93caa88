#!/bin/bash
# `op-dbus run` watching D-Bus services through PropertiesChanged: hostnamed's pretty hostname
# (bus-activated in its sandbox) and a property of our test service, both changed behind the
# daemon's back with busctl, are restored within a second and recorded as drift.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
command -v busctl >/dev/null || skip "busctl is not installed"
start_private_bus
activatable_sandboxed hostnamed org.freedesktop.hostname1
start_test_service org.opdbus.TestService
cat >"$WORK/state.json" <<'EOF2'
{"version": 1, "plugins": {
  "hostname": {"pretty_hostname": "odt kept"},
  "dbus": {"org.opdbus.TestService": {"/org/opdbus/Test": {"org.opdbus.Test1": {"Name": "kept"}}}}}}
EOF2
"$OPDBUS" --netns "$NS" --state-dir "$STATE" --bus "$BUS" run --state-file "$WORK/state.json" \
  --snapshot-interval 0 >"$WORK/daemon.log" 2>&1 &
ON_EXIT+=("stop_pid $! 5")

pretty() { busctl --address="$BUS" get-property org.freedesktop.hostname1 /org/freedesktop/hostname1 org.freedesktop.hostname1 PrettyHostname 2>/dev/null; }
name() { busctl --address="$BUS" get-property org.opdbus.TestService /org/opdbus/Test org.opdbus.Test1 Name 2>/dev/null; }
is_kept() { [ "$(pretty)" = 's "odt kept"' ]; }
name_kept() { [ "$(name)" = 's "kept"' ]; }
wait_for 10 is_kept || fail "the daemon did not set the pretty hostname: $(tail -3 "$WORK/daemon.log")"
wait_for 5 name_kept || fail "the daemon did not set Name: $(tail -3 "$WORK/daemon.log")"
wait_for 5 grep -q "daemon.start:" "$WORK/daemon.log"
sleep 0.3

busctl --address="$BUS" call org.freedesktop.hostname1 /org/freedesktop/hostname1 \
  org.freedesktop.hostname1 SetPrettyHostname sb "changed behind its back" false
wait_for 1 is_kept || fail "the pretty hostname was not restored within 1 s: $(tail -3 "$WORK/daemon.log")"

busctl --address="$BUS" set-property org.opdbus.TestService /org/opdbus/Test org.opdbus.Test1 Name s other
wait_for 1 name_kept || fail "Name was not restored within 1 s: $(tail -3 "$WORK/daemon.log")"

"$OPDBUS" --state-dir "$STATE" --json ledger log -n 1000000 >"$WORK/ledger.json"
jq -e '[.[] | select(.action == "drift") | .plugins[0]] | (index("hostname") != null) and (index("dbus") != null)' \
  "$WORK/ledger.json" >/dev/null || fail "no drift blocks for hostname and dbus"
echo "PASS: $TEST_NAME"
