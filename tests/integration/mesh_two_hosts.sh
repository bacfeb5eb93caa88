#!/bin/bash
# Two op-dbus "hosts" (two netns joined by a veth, each with its own state directory, container
# directory and wireguard-go) declare one mesh, each with its own prefix, and a busybox container
# in it: the container's start-host hook enrolls it (its own WireGuard interface in its netns,
# an address from its host's prefix, a peer of its host's mesh interface). The hosts exchange
# signed descriptions (`mesh export` / `mesh join --verifier`); then container A pings container
# B over the mesh, through both hosts. A second apply is a no-op on both; a tampered description
# is refused; a running container taken out by hand is enrolled again by the next apply; stopping
# container A takes it out (its peer leaves host A's interface), starting it puts it back.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
use_lxc
command -v wireguard-go >/dev/null || skip "wireguard-go is not installed"
command -v wg >/dev/null || skip "wireguard-tools (wg, the test oracle) is not installed"
command -v unshare >/dev/null && command -v nsenter >/dev/null || skip "util-linux unshare/nsenter missing"
command -v ping >/dev/null || skip "ping (package iputils-ping) is not installed"

linked_netns NSB 192.168.88.1/24 192.168.88.2/24
for ns in "$NS" "$NSB"; do
  ip -n "$ns" link add odt-br type bridge
  ip -n "$ns" link set odt-br up
done
ip -n "$NS" addr add 10.0.3.1/24 dev odt-br
ip -n "$NSB" addr add 10.0.4.1/24 dev odt-br
private_run "$NS"
HA=$PRIVATE
private_run "$NSB"
HB=$PRIVATE
LXC_B=$WORK/lxc-b
mkdir -p "$LXC_B"
ON_EXIT+=("for c in \$(ip netns exec $NSB lxc-ls -P $LXC_B); do ip netns exec $NSB lxc-stop -P $LXC_B -n \$c -k; ip netns exec $NSB lxc-destroy -P $LXC_B -n \$c; done >/dev/null 2>&1")
# The containers' wireguard-go, should a hook not have removed it: its link is deleted through
# the namespace handle op-dbus pinned under the state directory (in the holder's mount namespace).
for h in a:$HA b:$HB; do
  ON_EXIT+=("nsenter -t ${h#*:} -m sh -c 'for pin in $WORK/${h%%:*}/mesh/corp/run/*/*.netns; do [ -e \$pin ] && nsenter --net=\$pin ip link del wg-corp; done' 2>/dev/null")
done
CA=${LXC_PREFIX}ma
CB=${LXC_PREFIX}mb

opa() { nsenter -t "$HA" -m -n "$OPDBUS" --state-dir "$WORK/a" --lxc-path "$LXC_PATH" "$@"; }
opb() { nsenter -t "$HB" -m -n "$OPDBUS" --state-dir "$WORK/b" --lxc-path "$LXC_B" "$@"; }
pid_a() { lxcns lxc-info -P "$LXC_PATH" -n "$CA" -p -H; }
pid_b() { ip netns exec "$NSB" lxc-info -P "$LXC_B" -n "$CB" -p -H; }
host_peers() { nsenter -t "$1" -m -n wg show wg-corp peers | sort; }

state() {  # PREFIX ENDPOINT CONTAINER SUBNET
  printf '{"version": 1, "plugins": {
    "mesh": {"corp": {"cidr": "10.77.0.0/16", "prefix": "%s", "listen_port": 51820, "endpoint": "%s"}},
    "lxc": {"containers": {"%s": {"template": "busybox", "mesh": "corp",
      "config": {"lxc.init.cmd": "/bin/sleep 1000000", "lxc.signal.halt": "9"},
      "network": [{"link": "odt-br", "ipv4": "%s.5/24", "gateway": "%s.1"}]}}}}}\n' "$1" "$2" "$3" "$4" "$4"
}
state 10.77.1.0/24 192.168.88.1:51820 "$CA" 10.0.3 >"$WORK/a.json"
state 10.77.2.0/24 192.168.88.2:51820 "$CB" 10.0.4 >"$WORK/b.json"
expect_rc 0 opa apply "$WORK/a.json"
expect_contains "+ mesh mesh corp (create)"
expect_rc 0 opb apply "$WORK/b.json"

opa mesh show corp >"$WORK/show-a.json"
jq -e --arg c "$CA" '.members[$c] | .enrolled and .address == "10.77.1.2"' "$WORK/show-a.json" >/dev/null ||
  fail "container A not enrolled: $(cat "$WORK/show-a.json")"
nsenter -t "$(pid_a)" -n ip -j addr show wg-corp | jq -e '.[0].addr_info[] | select(.local == "10.77.1.2" and .prefixlen == 16)' >/dev/null ||
  fail "container A has no mesh address: $(nsenter -t "$(pid_a)" -n ip addr)"
[ "$(host_peers "$HA" | wc -l)" = 1 ] || fail "host A's peers: $(host_peers "$HA")"
opa --json ledger log -n 100 | jq -e --arg c "$CA" '[.[] | select(.action == "mesh.enroll" and .after.container == $c)] | length == 1' >/dev/null ||
  fail "the enrollment is not in host A's ledger"

opa mesh export corp >"$WORK/desc-a.json"
opb mesh export corp >"$WORK/desc-b.json"
jq '.note |= sub("10.77.2.0/24"; "10.77.0.0/16")' "$WORK/desc-b.json" >"$WORK/tampered.json"
expect_rc 1 opa mesh join corp "$WORK/tampered.json"
expect_contains "does not verify"
expect_rc 1 opa mesh join corp "$WORK/desc-b.json" --verifier "$(jq -r .verifier "$WORK/desc-a.json")"
expect_contains "not by the expected key"
expect_rc 0 opa mesh join corp "$WORK/desc-b.json" --verifier "$(jq -r .verifier "$WORK/desc-b.json")"
expect_rc 0 opb mesh join corp "$WORK/desc-a.json" --verifier "$(jq -r .verifier "$WORK/desc-a.json")"

# Container A reaches container B through host A and host B (handshakes take a moment).
wait_for 20 nsenter -t "$(pid_a)" -n ping -c 1 -W 1 10.77.2.2 >/dev/null ||
  fail "no traffic over the mesh: A $(host_peers "$HA"); B $(host_peers "$HB")"

expect_rc 0 opa apply "$WORK/a.json"
expect_contains "No changes"
expect_rc 0 opb apply "$WORK/b.json"
expect_contains "No changes"

# A running member that is not enrolled (its hook missed it) is enrolled by the next apply (as
# the daemon's would); one taken out by hand is put back the same way.
expect_rc 0 opa mesh leave corp "$CA"
nsenter -t "$(pid_a)" -n ip link show wg-corp >/dev/null 2>&1 && fail "mesh leave left container A's interface"
expect_rc 0 opa apply "$WORK/a.json"
expect_contains "+ mesh member corp/$CA (create)"
nsenter -t "$(pid_a)" -n ip -j addr show wg-corp | jq -e '.[0].addr_info[] | select(.local == "10.77.1.2")' >/dev/null ||
  fail "the apply did not enroll container A again"
wait_for 20 nsenter -t "$(pid_a)" -n ping -c 1 -W 1 10.77.2.2 >/dev/null || fail "no traffic after re-enrollment"

before=$(host_peers "$HA" | wc -l)
expect_rc 0 opa container stop "$CA"
wait_for 5 test "$(host_peers "$HA" | wc -l)" = $((before - 1)) || fail "container A's peer stayed on host A: $(host_peers "$HA"); $(cat "$WORK/a/mesh/corp/hooks.log" 2>&1)"
served() { python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$1" 2>/dev/null; }
served "$WORK/a/mesh/corp/run/$CA/wg-corp.sock" && fail "container A's wireguard-go outlived it"
opa mesh show corp | jq -e --arg c "$CA" '.members[$c] | .enrolled == false and .address == "10.77.1.2"' >/dev/null ||
  fail "container A still enrolled (or lost its address): $(opa mesh show corp)"
expect_rc 0 opa container start "$CA"
nsenter -t "$(pid_a)" -n ip -j addr show wg-corp | jq -e '.[0].addr_info[] | select(.local == "10.77.1.2")' >/dev/null ||
  fail "container A did not get its address back"
echo "PASS: $TEST_NAME"
