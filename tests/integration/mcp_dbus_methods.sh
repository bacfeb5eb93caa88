#!/bin/bash
# D-Bus methods as MCP tools, off by default: with the MCP config naming our test service's
# interface, its methods become tools with JSON Schemas from introspection; a call needs
# confirmation, returns the method's named outputs, is recorded in the ledger (dbus.call), and a
# method that fails is a tool error carrying the D-Bus error. busctl is the oracle.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
command -v busctl >/dev/null || skip "busctl (used as the test oracle) is not installed"
start_private_bus
start_test_service org.opdbus.TestService
echo '{"dbus_methods": [{"service": "org.opdbus.TestService", "interface": "org.opdbus.Test1"}]}' \
  >"$WORK/mcp.json"

session() {
  echo '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","clientInfo":{"name":"odt"}}}'
  echo '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
  echo '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"dbus.org.opdbus.Test1.Add","arguments":{"object_path":"/org/opdbus/Test","arguments":{"a":2,"b":3}}}}'
  echo '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"dbus.org.opdbus.Test1.Add","arguments":{"object_path":"/org/opdbus/Test","arguments":{"a":2,"b":3},"confirm":true}}}'
  echo '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"dbus.org.opdbus.Test1.Fail","arguments":{"object_path":"/org/opdbus/Test","arguments":{},"confirm":true}}}'
  echo '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"dbus.org.opdbus.Test1.Add","arguments":{"object_path":"/elsewhere","arguments":{"a":1,"b":1},"confirm":true}}}'
}
session | "$OPDBUS" --bus "$BUS" --state-dir "$STATE" mcp serve --stdio --config "$WORK/mcp.json" \
  >"$WORK/out.jsonl"
response() { jq -c --argjson id "$1" 'select(.id == $id)' "$WORK/out.jsonl"; }
response 2 | jq -e '.result.tools[] | select(.name == "dbus.org.opdbus.Test1.Add")
  | .inputSchema.properties.arguments.properties.a.type == "integer"
    and .inputSchema.properties.object_path.enum == ["/org/opdbus/Test"]
    and .outputSchema.properties.sum.type == "integer" and .annotations.destructiveHint == true' \
  >/dev/null || fail "Add tool: $(response 2 | cut -c1-400)"
response 3 | jq -e '.result.isError and .result.structuredContent.outcome == "needs_confirmation"' \
  >/dev/null || fail "unconfirmed call: $(response 3)"
response 4 | jq -e '.result.isError == false and .result.structuredContent == {"sum": 5}' >/dev/null ||
  fail "Add: $(response 4)"
response 5 | jq -e '.result.isError and (.result.content[0].text | test("Fail|failed|Failed"))' >/dev/null ||
  fail "Fail: $(response 5)"
response 6 | jq -e '.result.isError and (.result.content[0].text | test("object_path"))' >/dev/null ||
  fail "an unknown object path was accepted: $(response 6)"
"$OPDBUS" --state-dir "$STATE" --json ledger log -n 1000000 >"$WORK/ledger.json"
jq -e '[.[] | select(.action == "dbus.call")] | length == 1 and .[0].refs.method == "Add"
  and .[0].after == {"sum": 5} and .[0].actor.interface == "mcp:odt"' "$WORK/ledger.json" >/dev/null ||
  fail "ledger: $(cat "$WORK/ledger.json")"

# Without the config no method is offered.
session | "$OPDBUS" --bus "$BUS" --state-dir "$STATE" mcp serve --stdio >"$WORK/plain.jsonl"
jq -se '.[] | select(.id == 2) | [.result.tools[].name | select(startswith("dbus."))] == []' "$WORK/plain.jsonl" \
  >/dev/null || fail "D-Bus method tools are on by default"
echo "PASS: $TEST_NAME"
