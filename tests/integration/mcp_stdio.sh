#!/bin/bash
# `op-dbus mcp serve --stdio`: a session over newline-delimited JSON-RPC (initialize, tools/list,
# a query tool against the test's namespace, diff, a bad line, the ledger tools); every line on
# stdout is one JSON response, and nothing else is written there.
. "$(dirname "$0")/common.inc"
nsip link add odt-m0 type bridge
write_state "$WORK/one.json" <<'EOF2'
{"version": 1, "plugins": {"net": {"interfaces": [{"name": "odt-m1", "type": "bridge"}]}}}
EOF2
expect_rc 0 op apply "$WORK/one.json"
{
  echo '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"odt","version":"1"}}}'
  echo '{"jsonrpc":"2.0","method":"notifications/initialized"}'
  echo '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
  echo '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"query_net","arguments":{}}}'
  echo '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"diff","arguments":{"state":{"version":1,"plugins":{"net":{"interfaces":[{"name":"odt-m0","mtu":1400}]}}}}}}'
  echo 'this is not JSON'
  echo '{"jsonrpc":"2.0","id":5,"method":"ping"}'
  echo '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"ledger_log","arguments":{"count":5,"plugin":"net"}}}'
  echo '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"ledger_verify","arguments":{}}}'
} | op mcp serve --stdio >"$WORK/out.jsonl" 2>"$WORK/err.log"

[ "$(wc -l <"$WORK/out.jsonl")" = 8 ] || fail "expected 8 responses: $(cat "$WORK/out.jsonl")"
jq -e . "$WORK/out.jsonl" >/dev/null || fail "stdout holds something that is not JSON"
response() { jq -c --argjson id "$1" 'select(.id == $id)' "$WORK/out.jsonl"; }
response 1 | jq -e '.result.protocolVersion == "2025-11-25"' >/dev/null || fail "initialize: $(response 1)"
response 2 | jq -e '[.result.tools[].name] | index("query_net") != null and index("diff") != null' >/dev/null ||
  fail "tools/list"
response 3 | jq -e '.result.isError == false and
  ([.result.structuredContent.state.interfaces[].name] | index("odt-m0") != null)' >/dev/null ||
  fail "query_net does not show the namespace's bridge: $(response 3 | cut -c1-300)"
response 4 | jq -e '.result.structuredContent.changes[0].after.mtu == 1400' >/dev/null ||
  fail "diff: $(response 4 | cut -c1-300)"
[ "$(jq -c "select(.id == null) | .error.code" "$WORK/out.jsonl")" = -32700 ] || fail "no parse error: $(cat "$WORK/out.jsonl" | cut -c1-100)"
response 5 | jq -e '.result == {}' >/dev/null || fail "ping"
response 6 | jq -e '.result.structuredContent.blocks[0].action == "apply"
  and .result.structuredContent.blocks[0].plugins == ["net"]' >/dev/null || fail "ledger_log: $(response 6 | cut -c1-300)"
response 7 | jq -e '.result.structuredContent.ok == true and .result.structuredContent.blocks == 1' >/dev/null ||
  fail "ledger_verify: $(response 7)"
[ "$(nsip -j link show odt-m0 | jq '.[0].mtu')" = 1500 ] || fail "diff changed the host"
echo "PASS: $TEST_NAME"
