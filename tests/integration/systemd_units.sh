#!/bin/bash
# The systemd plugin against systemd running as PID 1 in a container (its own cgroups, tmpfs
# root): a unit file written, enabled and started; a second apply is a no-op; stop, disable, mask
# and unmask; a unit that fails to start makes the apply fail and roll back; `rollback` undoes
# the last apply; observe mode and bad declarations. busctl is the independent oracle.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
start_systemd_container

sd() { "$OPDBUS" --bus "$SD_BUS" --root "$SD_ROOT" --state-dir "$STATE" "$@"; }
UNIT_DIR=$SD_ROOT/etc/systemd/system
SLEEPER='[Unit]\nDescription=op-dbus test sleeper\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n'

write_state "$WORK/up.json" <<EOF2
{"version": 1, "plugins": {"systemd": {"units": {
  "odt-sleeper.service": {"unit_file": "$SLEEPER", "enabled": true, "active_state": "active"},
  "odt-never-installed.service": {"active_state": "inactive"}}}}}
EOF2
expect_rc 0 sd apply "$WORK/up.json"
expect_contains "+ systemd unit odt-sleeper.service (create)"
expect_contains "verified"
[ "$(unit_property odt-sleeper.service ActiveState)" = active ] || fail "the unit is not active"
[ "$(unit_property odt-sleeper.service UnitFileState)" = enabled ] || fail "the unit is not enabled"
[ -L "$UNIT_DIR/multi-user.target.wants/odt-sleeper.service" ] || fail "no [Install] symlink"
grep -q 'ExecStart=/bin/sleep infinity' "$UNIT_DIR/odt-sleeper.service" || fail "unit file content"

expect_rc 0 sd apply "$WORK/up.json"
expect_contains "No changes"
expect_rc 0 sd query -p systemd
jq -e '.plugins.systemd.units["odt-sleeper.service"] | .active_state == "active" and .enabled
  and .sub_state == "running" and .unit_file_state == "enabled"' <<<"$OUT" >/dev/null || fail "query"

# A changed unit file restarts the running unit (a new main PID).
pid_before=$(busctl --address="$SD_BUS" get-property org.freedesktop.systemd1 \
  /org/freedesktop/systemd1/unit/odt_2dsleeper_2eservice org.freedesktop.systemd1.Service MainPID)
write_state "$WORK/changed.json" <<EOF2
{"version": 1, "plugins": {"systemd": {"units": {
  "odt-sleeper.service": {"unit_file": "${SLEEPER/test sleeper/test sleeper, edited}", "active_state": "active"}}}}}
EOF2
expect_rc 0 sd apply "$WORK/changed.json"
expect_contains "+ Description=op-dbus test sleeper, edited"
pid_after=$(busctl --address="$SD_BUS" get-property org.freedesktop.systemd1 \
  /org/freedesktop/systemd1/unit/odt_2dsleeper_2eservice org.freedesktop.systemd1.Service MainPID)
[ "$pid_before" != "$pid_after" ] || fail "the unit was not restarted after its file changed"

write_state "$WORK/down.json" <<'EOF2'
{"version": 1, "plugins": {"systemd": {"units": {
  "odt-sleeper.service": {"active_state": "inactive", "enabled": false, "masked": true}}}}}
EOF2
expect_rc 0 sd apply "$WORK/down.json"
[ "$(unit_property odt-sleeper.service ActiveState)" = inactive ] || fail "the unit is still active"
[ "$(unit_property odt-sleeper.service UnitFileState)" = masked ] || fail "the unit is not masked"
expect_rc 0 sd apply "$WORK/down.json"
expect_contains "No changes"

# A unit that fails to start: the whole apply fails and everything rolls back, the other unit too.
expect_rc 0 sd apply "$WORK/up.json"
write_state "$WORK/bad.json" <<'EOF2'
{"version": 1, "plugins": {"systemd": {"units": {
  "odt-sleeper.service": {"active_state": "inactive"},
  "odt-broken.service": {"unit_file": "[Service]\nType=oneshot\nExecStart=/bin/false\n", "active_state": "active"}}}}}
EOF2
expect_rc 1 sd apply "$WORK/bad.json"
expect_contains "start of odt-broken.service: job result 'failed'"
expect_contains "main process exit status 1"
expect_contains "rolled back"
[ "$(unit_property odt-sleeper.service ActiveState)" = active ] || fail "the sleeper was not restarted by the rollback"
[ ! -e "$UNIT_DIR/odt-broken.service" ] || fail "the broken unit's file was left behind"
expect_rc 0 sd ledger log -n 1
expect_contains "rolled_back"

# `rollback` of the last successful apply.
expect_rc 0 sd apply "$WORK/down.json"
expect_rc 0 sd rollback
[ "$(unit_property odt-sleeper.service ActiveState)" = active ] || fail "rollback did not restart the unit"
[ "$(unit_property odt-sleeper.service UnitFileState)" = enabled ] || fail "rollback did not unmask and enable"

# Observe mode: drift is reported, nothing is changed.
write_state "$WORK/observe.json" <<'EOF2'
{"version": 1, "plugins": {"systemd": {"units": {
  "odt-sleeper.service": {"active_state": "inactive", "mode": "observe"}}}}}
EOF2
expect_rc 0 sd apply "$WORK/observe.json"
expect_contains "observe"
[ "$(unit_property odt-sleeper.service ActiveState)" = active ] || fail "observe mode changed the unit"

# Declarations that cannot work are refused before anything is touched, pointing at the line.
write_state "$WORK/invalid.json" <<'EOF2'
{"version": 1, "plugins": {"systemd": {"units": {
  "odt-sleeper.service": {"masked": true, "enabled": true},
  "getty@.service": {"active_state": "active"},
  "odt-x.service": {"active_state": "failed"}}}}}
EOF2
expect_rc 2 sd apply "$WORK/invalid.json"
expect_contains "invalid.json:2:"
expect_contains "a masked unit cannot be enabled"
expect_contains "getty@.service is a template and cannot be started; declare an instance such as getty@1.service"
expect_contains "active_state 'failed' cannot be declared"
[ "$(unit_property odt-sleeper.service UnitFileState)" = enabled ] || fail "a refused file changed the host"

# login1 in the container: read-only sessions, users and seats, as logind lists them.
expect_rc 0 sd query -p login1
seats=$(busctl --address="$SD_BUS" call org.freedesktop.login1 /org/freedesktop/login1 \
  org.freedesktop.login1.Manager ListSeats | awk '{print $2}')
jq -e --argjson seats "$seats" '.plugins.login1 | (.sessions | type) == "array"
  and (.users | type) == "array" and (.seats | length) == $seats' <<<"$OUT" >/dev/null ||
  fail "login1 query: $OUT"
write_state "$WORK/login1.json" <<'EOF2'
{"version": 1, "plugins": {"login1": {"sessions": []}}}
EOF2
expect_rc 2 sd apply "$WORK/login1.json"
expect_contains "login1 is read-only"

# Without systemd on the bus, a full query leaves the plugin out and says why.
expect_rc 0 "$OPDBUS" --bus "unix:path=$WORK/nobus" --state-dir "$STATE" query
expect_contains "systemd left out"
expect_rc 1 "$OPDBUS" --bus "unix:path=$WORK/nobus" --state-dir "$STATE" query -p systemd
echo "PASS: $TEST_NAME"
