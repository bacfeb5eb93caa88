#!/bin/bash
# The OVSDB client over ssl: to an ovsdb-server listening on loopback with TLS (certificates made
# here by openssl): the server is verified against the CA and op-dbus presents its own
# certificate; a server signed by another CA is refused, and missing client files are a clear
# input error.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
command -v ovsdb-server >/dev/null || skip "Open vSwitch (package openvswitch-switch) is not installed"
command -v openssl >/dev/null || skip "openssl is not installed"
D=$WORK/tls
mkdir -p "$D"
certificate() {  # NAME CA: a key and a certificate for NAME signed by CA
  openssl req -newkey rsa:2048 -nodes -keyout "$D/$1.key" -out "$D/$1.csr" -subj "/CN=$1" 2>/dev/null
  openssl x509 -req -in "$D/$1.csr" -CA "$D/$2.crt" -CAkey "$D/$2.key" -CAcreateserial \
    -out "$D/$1.crt" -days 1 2>/dev/null
}
for ca in ca rogue; do
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/$ca.key" -out "$D/$ca.crt" \
    -subj "/CN=odt-$ca" -days 1 2>/dev/null
done
certificate server ca
certificate client ca

ovsdb-tool create "$D/conf.db" /usr/share/openvswitch/vswitch.ovsschema >/dev/null
PORT=$((20000 + RANDOM % 30000))
ovsdb-server "$D/conf.db" --remote="punix:$D/db.sock" --remote="pssl:$PORT:127.0.0.1" \
  --private-key="$D/server.key" --certificate="$D/server.crt" --ca-cert="$D/ca.crt" \
  --unixctl="$D/ctl" --no-chdir --log-file="$D/log" >/dev/null 2>&1 &
ON_EXIT+=("stop_pid $! 5")
for _ in $(seq 100); do [ -S "$D/db.sock" ] && break; sleep 0.05; done
ovs-vsctl --db="unix:$D/db.sock" --no-wait init -- add-br odtbr -- set bridge odtbr datapath_type=netdev

tls() { "$OPDBUS" --state-dir "$STATE" --ovsdb "ssl:127.0.0.1:$PORT" "$@"; }
expect_rc 0 tls --ovsdb-private-key "$D/client.key" --ovsdb-certificate "$D/client.crt" \
  --ovsdb-ca-cert "$D/ca.crt" query -p ovs
jq -e '.plugins.ovs.bridges[0].name == "odtbr" and .plugins.ovs.bridges[0].datapath_type == "netdev"' \
  <<<"$OUT" >/dev/null || fail "query over TLS: $OUT"

expect_rc 1 tls --ovsdb-private-key "$D/client.key" --ovsdb-certificate "$D/client.crt" \
  --ovsdb-ca-cert "$D/rogue.crt" query -p ovs
expect_contains "TLS handshake with OVSDB at ssl:127.0.0.1:$PORT"
expect_rc 2 tls query -p ovs
expect_contains "needs --ovsdb-private-key, --ovsdb-certificate and --ovsdb-ca-cert"
echo "PASS: $TEST_NAME"
