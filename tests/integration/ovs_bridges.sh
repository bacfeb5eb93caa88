#!/bin/bash
# The ovs plugin against ovsdb-server and ovs-vswitchd (userspace datapath) in the test's
# namespace: a bridge with two veth ports carries traffic between two other namespaces (ping),
# VLAN tags separate and rejoin them, a second apply is a no-op, a port ovs-vswitchd cannot open
# fails the apply and everything rolls back, the bridge is removed. ovs-vsctl is only the oracle.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
command -v ping >/dev/null || skip "ping (package iputils-ping) is not installed"
start_ovs
extra_netns NS1
extra_netns NS2
nsip link add odt-p1 type veth peer name c1 netns "$NS1"
nsip link add odt-p2 type veth peer name c2 netns "$NS2"
nsip link set odt-p1 up
nsip link set odt-p2 up
ip -n "$NS1" addr add 10.88.0.1/24 dev c1
ip -n "$NS1" link set c1 up
ip -n "$NS2" addr add 10.88.0.2/24 dev c2
ip -n "$NS2" link set c2 up

ovs() { "$OPDBUS" --ovsdb "$OVSDB" --netns "$NS" --state-dir "$STATE" "$@"; }
vsctl() { ovs-vsctl --db="$OVSDB" "$@"; }
reaches() { ip netns exec "$NS1" ping -c 1 -W 2 10.88.0.2 >/dev/null 2>&1; }
bridge() {  # TAG1 TAG2 [EXTRA_PORT_JSON]
  printf '{"version": 1, "plugins": {"ovs": {"bridges": [{"name": "odtbr", "datapath_type": "netdev",
    "external_ids": {"owner": "op-dbus-test"}, "ports": [
    {"name": "odt-p1", "tag": %s}, {"name": "odt-p2", "tag": %s}%s]}]}}}\n' "$1" "$2" "${3:-}"
}

expect_rc 0 ovs doctor
expect_contains "schema Open_vSwitch"

bridge null null >"$WORK/flat.json"
expect_rc 0 ovs apply "$WORK/flat.json"
expect_contains "+ ovs bridge odtbr (create)"
[ "$(vsctl list-ports odtbr | sort | tr '\n' ' ')" = "odt-p1 odt-p2 " ] || fail "ports: $(vsctl list-ports odtbr)"
[ "$(vsctl get bridge odtbr datapath_type)" = netdev ] || fail "datapath_type"
reaches || fail "no traffic through the bridge"
expect_rc 0 ovs apply "$WORK/flat.json"
expect_contains "No changes"

bridge 10 20 >"$WORK/split.json"
expect_rc 0 ovs apply "$WORK/split.json"
[ "$(vsctl get port odt-p1 tag)" = 10 ] && [ "$(vsctl get port odt-p2 tag)" = 20 ] || fail "tags"
reaches && fail "different VLAN tags still pass traffic"
bridge 10 10 >"$WORK/same.json"
expect_rc 0 ovs apply "$WORK/same.json"
reaches || fail "the same VLAN tag does not pass traffic"

# query -p ovs fed back is a no-op
expect_rc 0 ovs query -p ovs
printf '%s' "$OUT" >"$WORK/query.json"
expect_rc 0 ovs apply "$WORK/query.json"
expect_contains "No changes"

# A port ovs-vswitchd cannot open: the apply fails and the whole transaction's effect is undone.
bridge 10 30 ', {"name": "odt-nope"}' >"$WORK/bad.json"
expect_rc 1 ovs apply "$WORK/bad.json"
expect_contains "odt-nope"
expect_contains "rolled back"
[ "$(vsctl get port odt-p2 tag)" = 10 ] || fail "odt-p2's tag was not restored"
vsctl list-ports odtbr | grep -q odt-nope && fail "odt-nope was left on the bridge"
reaches || fail "traffic does not pass after the rollback"

# Validation: a bridge's own port, and one port on two bridges.
write_state "$WORK/invalid.json" <<'EOF2'
{"version": 1, "plugins": {"ovs": {"bridges": [
  {"name": "odtbr", "ports": [{"name": "odtbr"}, {"name": "odt-p1"}]},
  {"name": "odtbr2", "ports": [{"name": "odt-p1"}]}]}}}
EOF2
expect_rc 2 ovs apply "$WORK/invalid.json"
expect_contains "odtbr's own internal port is implicit"
expect_contains "port odt-p1 is already a port of bridge odtbr"

printf '{"version": 1, "plugins": {"ovs": {"bridges": [{"name": "odtbr", "state": "absent"}]}}}' >"$WORK/gone.json"
expect_rc 0 ovs apply "$WORK/gone.json"
vsctl br-exists odtbr && fail "the bridge still exists"
expect_rc 1 "$OPDBUS" --ovsdb "unix:$WORK/none.sock" --state-dir "$STATE" query -p ovs
expect_contains "connect to OVSDB at unix:$WORK/none.sock"
echo "PASS: $TEST_NAME"
