#!/bin/bash
# A container joins an OVS bridge: one state file declares the bridge (ovs plugin, its ports list
# empty) and a busybox container whose veth joins it (lxc plugin); the engine applies ovs first,
# the container's host end becomes a port through OVSDB once it runs, owned by the lxc plugin (so
# the ovs plugin's complete ports list leaves it be), and the container answers a ping through the
# bridge's internal port. A second apply is a no-op; destroying the container removes the port.
# ovs-vsctl and lxc-info are only the oracle.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
use_lxc
command -v ping >/dev/null || skip "ping (package iputils-ping) is not installed"
start_ovs
A=${LXC_PREFIX}v
port=lx$A-0
opl() { op --ovsdb "$OVSDB" --lxc-path "$LXC_PATH" "$@"; }
vsctl() { ovs-vsctl --db="$OVSDB" "$@"; }

state() {  # CONTAINER_STATE
  printf '{"version": 1, "plugins": {
    "ovs": {"bridges": [{"name": "odtovs", "datapath_type": "netdev", "ports": []}]},
    "lxc": {"containers": {"%s": {"template": "busybox", "state": "%s",
      "config": {"lxc.init.cmd": "/bin/sleep 1000000"},
      "network": [{"ovs_bridge": "odtovs", "ipv4": "10.0.4.5/24"}]}}}}}\n' "$A" "$1"
}
state running >"$WORK/up.json"
expect_rc 0 opl apply "$WORK/up.json"
expect_contains "+ lxc container $A (create)"
[ "$(lxcns lxc-info -P "$LXC_PATH" -n "$A" -s -H)" = RUNNING ] || fail "$A is not running"
vsctl list-ports odtovs | grep -qx "$port" || fail "no OVS port $port: $(vsctl list-ports odtovs)"
vsctl get port "$port" external_ids | grep -q '"op-dbus:owner"=lxc' ||
  fail "the port is not marked as the lxc plugin's: $(vsctl get port "$port" external_ids)"
nsip addr add 10.0.4.1/24 dev odtovs
nsip link set odtovs up
wait_for 5 ip netns exec "$NS" ping -c 1 -W 1 10.0.4.5 >/dev/null || fail "no traffic through the OVS bridge"
expect_rc 0 opl apply "$WORK/up.json"
expect_contains "No changes"

state absent >"$WORK/down.json"
expect_rc 0 opl apply "$WORK/down.json"
[ -z "$(lxcns lxc-ls -P "$LXC_PATH")" ] || fail "the container was not destroyed"
[ -z "$(vsctl list-ports odtovs)" ] || fail "ports left: $(vsctl list-ports odtovs)"
echo "PASS: $TEST_NAME"
