#!/bin/bash
# The lxc plugin through liblxc with busybox containers in the test's netns (lxc-info, lxc-ls and
# the cgroup files are only the oracle): create from the busybox template on a Linux bridge and
# ping it; a second apply and a query fed back are no-ops; a memory limit changes live (same init
# PID), an address change restarts it (the plan says so); stop; a clone of a stopped golden
# container; a container whose start fails is rolled back (destroyed); one joins an OVS bridge
# (the port added through OVSDB) and is reached through it; `state: absent` destroys all, and
# removes the OVS port.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
use_lxc
command -v ping >/dev/null || skip "ping (package iputils-ping) is not installed"
opl() { op --lxc-path "$LXC_PATH" "$@"; }
info() { lxcns lxc-info -P "$LXC_PATH" -n "$1" "${@:2}" 2>/dev/null; }
pings() { ip netns exec "$NS" ping -c 1 -W 2 "$1" >/dev/null 2>&1; }
A=${LXC_PREFIX}a
B=${LXC_PREFIX}b
C=${LXC_PREFIX}c
nsip link add odt-br type bridge
nsip addr add 10.0.3.1/24 dev odt-br
nsip link set odt-br up
memory_limit() { cat "/sys/fs/cgroup/memory/lxc.payload.$1/memory.limit_in_bytes" 2>/dev/null || cat "/sys/fs/cgroup/lxc.payload.$1/memory.max"; }

# The busybox template's init runs udhcpc, which removes the static address: a plain init instead.
container() {  # NAME STATE IPV4 MEMORY [EXTRA_JSON]
  printf '"%s": {"template": "busybox", "state": "%s",
    "config": {"limits.memory": "%s", "lxc.init.cmd": "/bin/sleep 1000000"},
    "network": [{"link": "odt-br", "ipv4": "%s"}]%s}' "$1" "$2" "$4" "$3" "${5:-}"
}
state() { printf '{"version": 1, "plugins": {"lxc": {"containers": {%s}}}}\n' "$1"; }

state "$(container "$A" running 10.0.3.5/24 64M)" >"$WORK/a.json"
expect_rc 0 opl apply "$WORK/a.json"
expect_contains "+ lxc container $A (create)"
[ "$(info "$A" -s -H)" = RUNNING ] || fail "$A is not running: $(info "$A")"
pings 10.0.3.5 || fail "$A is not reachable on the bridge"
[ "$(memory_limit "$A")" = 67108864 ] || fail "memory limit: $(memory_limit "$A")"
expect_rc 0 opl apply "$WORK/a.json"
expect_contains "No changes"
opl query -p lxc >"$WORK/query.json"
jq -e --arg a "$A" '.plugins.lxc.containers[$a] | .state == "running" and .template == "busybox"
  and .network[0].link == "odt-br" and .network[0].host_name == ("lx" + $a + "-0") and .init_pid > 0' \
  "$WORK/query.json" >/dev/null || fail "query: $(cat "$WORK/query.json")"
expect_rc 0 opl apply "$WORK/query.json"
expect_contains "No changes"

pid=$(info "$A" -p -H)
state "$(container "$A" running 10.0.3.5/24 128M)" >"$WORK/live.json"
expect_rc 0 opl apply "$WORK/live.json"
case "$OUT" in *restart*) fail "a memory limit change restarts the container: $OUT" ;; esac
[ "$(memory_limit "$A")" = 134217728 ] || fail "memory limit not changed live: $(memory_limit "$A")"
[ "$(info "$A" -p -H)" = "$pid" ] || fail "the container was restarted"

state "$(container "$A" running 10.0.3.6/24 128M)" >"$WORK/moved.json"
expect_rc 0 opl apply "$WORK/moved.json"
expect_contains "restart"
[ "$(info "$A" -p -H)" != "$pid" ] || fail "the address change did not restart the container"
pings 10.0.3.6 || fail "$A is not reachable at its new address"

state "$(container "$A" stopped 10.0.3.6/24 128M)" >"$WORK/stopped.json"
expect_rc 0 opl apply "$WORK/stopped.json"
[ "$(info "$A" -s -H)" = STOPPED ] || fail "$A did not stop"

state "$(container "$A" stopped 10.0.3.6/24 128M), \"$B\": {\"rootfs\": {\"clone_from\": \"$A\"},
  \"network\": [{\"link\": \"odt-br\", \"ipv4\": \"10.0.3.7/24\"}]}" >"$WORK/clone.json"
expect_rc 0 opl apply "$WORK/clone.json"
[ "$(info "$B" -s -H)" = RUNNING ] || fail "the clone $B is not running"
pings 10.0.3.7 || fail "the clone is not reachable"
expect_rc 0 opl apply "$WORK/clone.json"
expect_contains "No changes"

# The container commands go through the engine: planned, verified and recorded.
expect_rc 0 opl container stop "$B"
[ "$(info "$B" -s -H)" = STOPPED ] || fail "container stop: $B still $(info "$B" -s -H)"
expect_rc 0 opl container start "$B"
[ "$(info "$B" -s -H)" = RUNNING ] || fail "container start: $B is $(info "$B" -s -H)"
expect_rc 0 opl container list
expect_contains "$B"
expect_rc 0 opl container show "$B"
expect_contains '"ipv4": "10.0.3.7/24"'
expect_rc 2 opl container start "${LXC_PREFIX}nonexistent"
expect_contains "no container named"
opl --json ledger log -n 1 | jq -e --arg b "$B" '.[0] | .actor.interface == "cli"
  and .before.lxc.containers[$b].state == "stopped" and .after.lxc.containers[$b].state == "running"' \
  >/dev/null || fail "container start not in the ledger: $(opl --json ledger log -n 1)"

printf '{"version": 1, "plugins": {"lxc": {"containers": {"%s": {"template": "busybox",
  "network": [{"link": "odt-nonexistent"}]}}}}}\n' "$C" >"$WORK/broken.json"
expect_rc 1 opl apply "$WORK/broken.json"
expect_contains "rolled back"
expect_contains "container $C: starting it failed"
lxcns lxc-ls -P "$LXC_PATH" | grep -qw "$C" && fail "the container that failed to start was left behind"

printf '{"version": 1, "plugins": {"lxc": {"containers": {"%s": {"state": "absent"}, "%s": {"state": "absent"}}}}}\n' \
  "$A" "$B" >"$WORK/absent.json"
expect_rc 0 opl apply "$WORK/absent.json"
[ -z "$(lxcns lxc-ls -P "$LXC_PATH")" ] || fail "containers left: $(lxcns lxc-ls -P "$LXC_PATH")"
expect_rc 0 opl apply "$WORK/absent.json"
expect_contains "No changes"
echo "PASS: $TEST_NAME"
