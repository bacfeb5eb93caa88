#!/bin/bash
# The official MCP TypeScript SDK client (tests/node/sdk_client.mjs) drives `op-dbus mcp serve`
# over stdio and over Streamable HTTP with a bearer token: tools listed, a read tool run, an
# apply refused without confirmation and then made (with progress notifications) in the test's
# namespace, and its ledger block read back as a resource with an inclusion proof. iproute2
# checks the host; the ledger names the MCP client and the token. (The SDK dispatches
# notifications a microtask late, so a progress report read together with the response is dropped
# by the client: at least one must arrive.) The same runs against `op-dbus run --mcp`, and
# requests it refuses after the first in a minute, only counted, are recorded when it stops.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/node.inc"
nsip link set lo up
echo '{"version": 1, "plugins": {}}' >"$WORK/daemon.json"
state() { printf '{"version":1,"plugins":{"net":{"interfaces":[{"name":"%s","type":"bridge","mtu":%s}]}}}' "$1" "$2"; }

in_ns "$NODE22" "$NODE_DIR/sdk_client.mjs" stdio "$OPDBUS" --state-dir "$STATE" mcp serve --stdio \
  -- "$(state odt-sdk0 1400)" >"$WORK/stdio.json" || fail "stdio client failed"
jq -e '.outcome == "applied" and .block.action == "apply" and .block.actor.interface == "mcp:sdk-test"
  and .block.plugins == ["net"] and (.progress | length) >= 1' "$WORK/stdio.json" >/dev/null ||
  fail "stdio: $(cat "$WORK/stdio.json")"
[ "$(nsip -j link show odt-sdk0 | jq '.[0].mtu')" = 1400 ] || fail "stdio apply did not reach the host"

TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat >"$WORK/mcp.json" <<EOF2
{"tokens": {"ci-agent": {"token_sha256": "$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)", "access": "write"}}}
EOF2
start_mcp_http URL "$OPDBUS" --state-dir "$STATE" mcp serve --http 127.0.0.1:0 --config "$WORK/mcp.json"
in_ns "$NODE22" "$NODE_DIR/sdk_client.mjs" http "$URL" "$TOKEN" -- "$(state odt-sdk1 1300)" \
  >"$WORK/http.json" || fail "HTTP client failed"
jq -e '.outcome == "applied" and .block.actor.interface == "mcp:sdk-test"
  and .block.actor.user == "token:ci-agent"' "$WORK/http.json" >/dev/null || fail "http: $(cat "$WORK/http.json")"
[ "$(nsip -j link show odt-sdk1 | jq '.[0].mtu')" = 1300 ] || fail "HTTP apply did not reach the host"
in_ns "$NODE22" "$NODE_DIR/sdk_client.mjs" http "$URL" wrong-token -- "$(state odt-sdk2 1300)" \
  >/dev/null 2>"$WORK/refused.log" && fail "a wrong token was accepted"
grep -q "unknown bearer token" "$WORK/refused.log" || fail "wrong token: $(cat "$WORK/refused.log")"
expect_rc 0 op ledger verify

# The daemon serves the same MCP server; its engine work runs on the daemon's own thread.
DAEMON_STATE=$WORK/daemon-state
start_mcp_http DAEMON_URL "$OPDBUS" --state-dir "$DAEMON_STATE" run --snapshot-interval 0 \
  --mcp 127.0.0.1:0 --mcp-config "$WORK/mcp.json" --state-file "$WORK/daemon.json"
in_ns "$NODE22" "$NODE_DIR/sdk_client.mjs" http "$DAEMON_URL" "$TOKEN" -- "$(state odt-sdk3 1280)" \
  >"$WORK/daemon.json.out" || fail "client of the daemon failed"
jq -e '.outcome == "applied" and .block.actor.user == "token:ci-agent"' "$WORK/daemon.json.out" \
  >/dev/null || fail "daemon: $(cat "$WORK/daemon.json.out")"
[ "$(nsip -j link show odt-sdk3 | jq '.[0].mtu')" = 1280 ] || fail "the daemon's apply did not reach the host"
for attempt in 1 2 3; do
  in_ns curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
    -d '{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}' "$DAEMON_URL"
done
kill "$DAEMON_URL_PID" && wait "$DAEMON_URL_PID" || true
"$OPDBUS" --state-dir "$DAEMON_STATE" --json ledger log -n 1000 | jq -e '[.[] | select(.action ==
  "mcp.http.denied") | .result.reason] | sort == ["2 more refused requests in the minute after the last record",
  "a bearer token is required"]' >/dev/null ||
  fail "the daemon's refusals are not all recorded: $("$OPDBUS" --state-dir "$DAEMON_STATE" --json ledger log -n 1000 | jq -c '[.[] | select(.action == "mcp.http.denied") | .result]')"
expect_rc 0 "$OPDBUS" --state-dir "$DAEMON_STATE" ledger verify
echo "PASS: $TEST_NAME"
