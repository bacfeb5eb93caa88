#!/bin/bash
# `op-dbus run` watching Open vSwitch (OVSDB monitor) and systemd (D-Bus signals): a port deleted
# by a direct OVSDB transaction and a unit stopped behind the daemon's back are both restored
# within a second and recorded as drift; after ovsdb-server restarts, the daemon re-opens its
# monitor and still repairs drift.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
start_ovs
start_systemd_container
nsip link add odt-p1 type veth peer name odt-q1
nsip link set odt-p1 up
cat >"$WORK/state.json" <<'EOF2'
{"version": 1, "plugins": {
  "ovs": {"bridges": [{"name": "odtbr", "datapath_type": "netdev", "ports": [{"name": "odt-p1", "tag": 5}]}]},
  "systemd": {"units": {"odt-keep.service": {
    "unit_file": "[Service]\nExecStart=/bin/sleep infinity\n", "active_state": "active"}}}}}
EOF2

"$OPDBUS" --netns "$NS" --state-dir "$STATE" --ovsdb "$OVSDB" --bus "$SD_BUS" --root "$SD_ROOT" \
  -v run --state-file "$WORK/state.json" --snapshot-interval 0 >"$WORK/daemon.log" 2>&1 &
ON_EXIT+=("stop_pid $! 5")

has_port() { ovs-vsctl --db="$OVSDB" list-ports odtbr 2>/dev/null | grep -qx odt-p1; }
unit_active() { [ "$(unit_property odt-keep.service ActiveState)" = active ]; }
drift_of() {
  "$OPDBUS" --state-dir "$STATE" --json ledger log -n 1000000 2>/dev/null |
    jq -e --arg p "$1" '[.[] | select(.action == "drift" and .plugins == [$p])] | length > 0' >/dev/null
}

wait_for 15 has_port || fail "the daemon did not create the port: $(tail -5 "$WORK/daemon.log")"
wait_for 10 unit_active || fail "the daemon did not start the unit: $(tail -5 "$WORK/daemon.log")"
sleep 0.5  # the start's own events settle

ovs-vsctl --db="$OVSDB" --no-wait del-port odtbr odt-p1
wait_for 1 has_port || fail "the deleted OVS port was not restored within 1 s"
[ "$(ovs-vsctl --db="$OVSDB" get port odt-p1 tag)" = 5 ] || fail "the restored port lacks its tag"
wait_for 2 drift_of ovs || fail "no ovs drift block"

# ovsdb-server restarts: the daemon re-opens its monitor (retrying with back-off) and checks.
stop_pid "$OVSDB_PID" 5
start_ovsdb_server
sleep 0.2
ovs-vsctl --db="$OVSDB" --no-wait del-port odtbr odt-p1
wait_for 5 has_port || fail "drift after an ovsdb-server restart was not repaired: $(tail -5 "$WORK/daemon.log")"

busctl --address="$SD_BUS" call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
  org.freedesktop.systemd1.Manager StopUnit ss odt-keep.service replace >/dev/null
wait_for 1 unit_active || fail "the stopped unit was not started again within 1 s: $(tail -5 "$WORK/daemon.log")"
wait_for 2 drift_of systemd || fail "no systemd drift block"
echo "PASS: $TEST_NAME"
