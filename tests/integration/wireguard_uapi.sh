#!/bin/bash
# op-dbus's WireGuard UAPI client against wireguard-go, with wireguard-tools' `wg show` as the
# oracle: wireguard-go runs in the test's netns and a private mount namespace (its /run is a
# tmpfs there, so its socket appears only at /proc/PID/root/run/wireguard); a key file is created
# 0600 and the device's public key is derived from it; peers are added, one removed, then the
# list replaced; listen port, endpoints, allowed IPs and keepalives must read back both ways. A
# malformed request fails before anything is sent.
. "$(dirname "$0")/common.inc"
TOOL=${OPDBUS_WG_UAPI:?set OPDBUS_WG_UAPI}
command -v wireguard-go >/dev/null || skip "wireguard-go is not installed"
command -v wg >/dev/null || skip "wireguard-tools (wg, the test oracle) is not installed"
command -v unshare >/dev/null && command -v nsenter >/dev/null || skip "util-linux unshare/nsenter missing"

ip netns exec "$NS" unshare -m --propagation private sh -c \
  'mount -t tmpfs none /run && mkdir /run/wireguard && exec wireguard-go -f wgt0' >"$WORK/wg.log" 2>&1 &
WG=$!
ON_EXIT+=("kill $WG 2>/dev/null; wait $WG 2>/dev/null")
SOCKET=/proc/$WG/root/run/wireguard/wgt0.sock
wait_for 5 test -S "$SOCKET" || fail "wireguard-go did not start: $(cat "$WORK/wg.log")"
oracle() { nsenter -t "$WG" -m -n wg show wgt0 dump; }

key() { wg genkey | wg pubkey; }
A=$(key); B=$(key); C=$(key)
jq -n --arg k "$WORK/wgt0.key" --arg a "$A" --arg b "$B" '{private_key_file: $k, listen_port: 51999,
  replace_peers: true, peers: [
    {public_key: $a, endpoint: "192.0.2.1:51820", allowed_ips: ["10.77.0.2/32", "10.78.0.0/16"], persistent_keepalive: 25},
    {public_key: $b, endpoint: "[2001:db8::1]:443", allowed_ips: ["fd00:77::/64"]}]}' >"$WORK/set1.json"
"$TOOL" "$SOCKET" set "$WORK/set1.json" >"$WORK/out.json" || fail "set: $(cat "$WORK/out.json")"
[ "$(stat -c %a "$WORK/wgt0.key")" = 600 ] || fail "the key file is not 0600"
public=$(jq -r .public_key "$WORK/out.json")
[ "$(wg pubkey <"$WORK/wgt0.key")" = "$public" ] || fail "derived public key differs from wg pubkey"

oracle >"$WORK/dump"
read -r _ dev_public port _ < <(head -1 "$WORK/dump")
[ "$dev_public" = "$public" ] && [ "$port" = 51999 ] || fail "device: $(head -1 "$WORK/dump")"
grep -q "^$A	(none)	192.0.2.1:51820	10.77.0.2/32,10.78.0.0/16	0	0	0	25$" "$WORK/dump" ||
  grep -q "^$A	(none)	192.0.2.1:51820	10.78.0.0/16,10.77.0.2/32	0	0	0	25$" "$WORK/dump" ||
  fail "peer A: $(cat "$WORK/dump")"
grep -q "^$B	(none)	\[2001:db8::1\]:443	fd00:77::/64	0	0	0	off$" "$WORK/dump" || fail "peer B: $(cat "$WORK/dump")"

"$TOOL" "$SOCKET" get >"$WORK/get.json"
jq -e --arg a "$A" '.listen_port == 51999 and (.peers | length) == 2
  and (.peers[] | select(.public_key == $a) | .endpoint == "192.0.2.1:51820" and .persistent_keepalive == 25
       and (.allowed_ips | sort) == ["10.77.0.2/32", "10.78.0.0/16"])' "$WORK/get.json" >/dev/null ||
  fail "get: $(cat "$WORK/get.json")"

jq -n --arg b "$B" '{peers: [{public_key: $b, remove: true}]}' >"$WORK/remove.json"
"$TOOL" "$SOCKET" set "$WORK/remove.json" >/dev/null
[ "$(oracle | tail -n +2 | wc -l)" = 1 ] && ! oracle | grep -q "^$B" || fail "peer B not removed: $(oracle)"

jq -n --arg c "$C" '{replace_peers: true, peers: [{public_key: $c, allowed_ips: ["10.77.0.9/32"]}]}' >"$WORK/replace.json"
"$TOOL" "$SOCKET" set "$WORK/replace.json" >/dev/null
[ "$(oracle | tail -n +2 | cut -f1)" = "$C" ] || fail "peers not replaced: $(oracle)"
[ "$(oracle | head -1 | cut -f3)" = 51999 ] || fail "the listen port changed"

jq -n --arg c "$C" '{peers: [{public_key: $c, allowed_ips: ["10.77.0.300/32"]}]}' >"$WORK/bad.json"
if "$TOOL" "$SOCKET" set "$WORK/bad.json" 2>"$WORK/bad.err"; then fail "a bad allowed IP was accepted"; fi
[ "$(oracle | tail -n +2 | cut -f4)" = 10.77.0.9/32 ] || fail "a malformed request changed the device"
echo "PASS: $TEST_NAME"
