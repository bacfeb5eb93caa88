#!/bin/bash
# The official MCP conformance suite (@modelcontextprotocol/conformance 0.1.16, every server
# scenario: `--suite all`) against op-dbus's MCP server core and Streamable HTTP transport, serving
# the suite's fixtures from the test-only opdbus-mcp-fixtures program. Every scenario must pass;
# an expected-failures file (tests/node/conformance-expected-failures.yml) would list exceptions.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/node.inc"
FIXTURES=${OPDBUS_MCP_FIXTURES:?set OPDBUS_MCP_FIXTURES}
nsip link set lo up
start_mcp_http URL "$FIXTURES" 0
args=(server --url "$URL" --suite all -o "$WORK/results")
[ -f "$NODE_DIR/conformance-expected-failures.yml" ] &&
  args+=(--expected-failures "$NODE_DIR/conformance-expected-failures.yml")
in_ns "$NODE22" "$NODE_DIR/node_modules/@modelcontextprotocol/conformance/dist/index.js" "${args[@]}" \
  >"$WORK/conformance.log" 2>&1 || { tail -60 "$WORK/conformance.log"; fail "conformance suite failed"; }
summary=$(grep '^Total:' "$WORK/conformance.log") || fail "no summary: $(tail -20 "$WORK/conformance.log")"
echo "$summary"
grep -q ' 0 failed' <<<"$summary" || fail "$summary"
[ "$(grep -c '^✓' "$WORK/conformance.log")" -ge 32 ] || fail "fewer than 32 scenarios ran"
echo "PASS: $TEST_NAME"
