#!/bin/bash
# The wireguard plugin against wireguard-go (this kernel has no WireGuard module): op-dbus runs in
# the test's netns and a private mount namespace whose /run is a tmpfs, creates the interface by
# starting wireguard-go there, generates its key (0600), sets port, address and peers; a second
# wireguard-go in another netns, configured with `wg`, is the far end: the tunnel carries a ping
# and query reports the handshake. A second apply and a query fed back are no-ops; a preshared key
# is named by fingerprint only; a bad allowed IP is refused before anything changes; an apply that
# fails on its second interface (port taken) rolls the first back; `state: absent` removes it and
# wireguard-go exits. `wg show dump` is the oracle throughout.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
command -v wireguard-go >/dev/null || skip "wireguard-go is not installed"
command -v wg >/dev/null || skip "wireguard-tools (wg, the test oracle) is not installed"
command -v unshare >/dev/null && command -v nsenter >/dev/null || skip "util-linux unshare/nsenter missing"
command -v ping >/dev/null || skip "ping (package iputils-ping) is not installed"
command -v python3 >/dev/null || skip "python3 (holds a UDP port busy) is not installed"

linked_netns FAR 192.168.77.1/24 192.168.77.2/24
private_run "$NS"
HOST=$PRIVATE
private_run "$FAR"
FARPID=$PRIVATE

opw() { nsenter -t "$HOST" -m -n "$OPDBUS" --state-dir "$STATE" "$@"; }
oracle() { nsenter -t "$HOST" -m -n wg show "$1" dump; }
far() { nsenter -t "$FARPID" -m -n "$@"; }

far wireguard-go wgfar 2>/dev/null
far_key=$(wg genkey)
far_pub=$(echo "$far_key" | wg pubkey)
far sh -c "echo $far_key >/run/wgfar.key && wg set wgfar private-key /run/wgfar.key listen-port 51902"
far ip addr add 10.99.0.2/24 dev wgfar
far ip link set wgfar up

state() {  # PEERS_JSON [EXTRA_INTERFACES_JSON]
  printf '{"version": 1, "plugins": {"wireguard": {"interfaces": {"wgt0": {
    "private_key_file": "%s", "listen_port": 51901, "addresses": ["10.99.0.1/24"],
    "peers": %s}%s}}}}\n' "$WORK/wgt0.key" "$1" "${2:-}"
}
far_peer="{\"public_key\": \"$far_pub\", \"endpoint\": \"192.168.77.2:51902\", \"allowed_ips\": [\"10.99.0.2/32\"], \"persistent_keepalive\": 25}"
state "[$far_peer]" >"$WORK/one.json"

expect_rc 0 opw doctor
expect_contains "userspace WireGuard"
expect_rc 0 opw apply "$WORK/one.json"
expect_contains "+ wireguard interface wgt0 (create)"
[ "$(stat -c %a "$WORK/wgt0.key")" = 600 ] || fail "the key file is not 0600"
our_pub=$(wg pubkey <"$WORK/wgt0.key")
oracle wgt0 >"$WORK/dump"
read -r _ dev_pub port _ < <(head -1 "$WORK/dump")
[ "$dev_pub" = "$our_pub" ] && [ "$port" = 51901 ] || fail "device: $(head -1 "$WORK/dump")"
grep -q "^$far_pub	(none)	192.168.77.2:51902	10.99.0.2/32	" "$WORK/dump" || fail "peer: $(cat "$WORK/dump")"
nsenter -t "$HOST" -n ip -j addr show wgt0 | jq -e '.[0].addr_info[] | select(.local == "10.99.0.1" and .prefixlen == 24)' >/dev/null ||
  fail "address not set: $(nsenter -t "$HOST" -n ip addr show wgt0)"

far wg set wgfar peer "$our_pub" allowed-ips 10.99.0.1/32 endpoint 192.168.77.1:51901
# Our keepalive sent a handshake before the far end knew us: WireGuard retries it after 5 s.
wait_for 15 nsenter -t "$HOST" -n ping -c 1 -W 1 10.99.0.2 >/dev/null || fail "no traffic through the tunnel"

expect_rc 0 opw apply "$WORK/one.json"
expect_contains "No changes"
opw query -p wireguard >"$WORK/query.json"
jq -e --arg k "$our_pub" --arg f "$far_pub" '.plugins.wireguard.interfaces.wgt0 | .public_key == $k and .implementation == "userspace"
  and (.peers[0] | .public_key == $f and .latest_handshake > 0 and .rx_bytes > 0)' "$WORK/query.json" >/dev/null ||
  fail "query: $(cat "$WORK/query.json")"
expect_rc 0 opw apply "$WORK/query.json"
expect_contains "No changes"

# A second peer with a preshared key; the far end's keepalive changes.
(umask 077 && wg genpsk >"$WORK/psk")
second_pub=$(wg genkey | wg pubkey)
second="{\"public_key\": \"$second_pub\", \"allowed_ips\": [\"10.99.0.3/32\", \"fd99::3/128\"], \"preshared_key_file\": \"$WORK/psk\"}"
state "[${far_peer/25/10}, $second]" >"$WORK/two.json"
expect_rc 0 opw apply "$WORK/two.json"
expect_contains "+ wireguard peer wgt0 peer $second_pub (create)"
oracle wgt0 >"$WORK/dump"
grep -q "^$second_pub	$(cat "$WORK/psk")	(none)	" "$WORK/dump" || fail "second peer: $(cat "$WORK/dump")"
grep -q "^$far_pub	.*	10$" "$WORK/dump" || fail "keepalive: $(cat "$WORK/dump")"
opw query -p wireguard >"$WORK/query.json"
grep -q "$(cut -c1-20 "$WORK/psk")" "$WORK/query.json" "$STATE"/ledger/* && fail "the preshared key was written out"
jq -e --arg s "$second_pub" '.plugins.wireguard.interfaces.wgt0.peers[] | select(.public_key == $s) | .preshared_key_sha256 | length == 16' \
  "$WORK/query.json" >/dev/null || fail "no preshared key fingerprint: $(cat "$WORK/query.json")"
expect_rc 0 opw apply "$WORK/two.json"
expect_contains "No changes"

state "[{\"public_key\": \"$far_pub\", \"allowed_ips\": [\"10.99.0.5/24\"]}]" >"$WORK/bad.json"
expect_rc 2 opw apply "$WORK/bad.json"
expect_contains "/plugins/wireguard/interfaces/wgt0/peers/0/allowed_ips/0"
[ "$(oracle wgt0 | tail -n +2 | wc -l)" = 2 ] || fail "a refused file changed the device"

# wgt0 loses its second peer, then wgt1 cannot take its port: both are rolled back.
ip netns exec "$NS" python3 -c 'import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("0.0.0.0",51903)); time.sleep(60)' &
BUSY=$!
ON_EXIT+=("kill $BUSY")
wait_for 5 sh -c "ip netns exec $NS ss -Hlun | grep -q :51903" || fail "python3 did not take port 51903"
before=$(oracle wgt0 | sort)
state "[$far_peer]" ', "wgt1": {"listen_port": 51903}' >"$WORK/busy.json"
expect_rc 1 opw apply "$WORK/busy.json"
expect_contains "rolled back"
expect_contains "WireGuard device wgt1 refused the request: Address already in use"
[ "$(oracle wgt0 | sort)" = "$before" ] || fail "wgt0 not restored: $(oracle wgt0)"
nsenter -t "$HOST" -n ip link show wgt1 >/dev/null 2>&1 && fail "wgt1 left behind"
[ -S /proc/$HOST/root/run/wireguard/wgt1.sock ] && fail "wgt1's wireguard-go left running"

printf '{"version": 1, "plugins": {"wireguard": {"interfaces": {"wgt0": {"state": "absent"}}}}}\n' >"$WORK/absent.json"
expect_rc 0 opw apply "$WORK/absent.json"
nsenter -t "$HOST" -n ip link show wgt0 >/dev/null 2>&1 && fail "wgt0 not removed"
wait_for 5 test ! -S /proc/$HOST/root/run/wireguard/wgt0.sock || fail "wgt0's wireguard-go still running"
expect_rc 0 opw apply "$WORK/absent.json"
expect_contains "No changes"
echo "PASS: $TEST_NAME"
