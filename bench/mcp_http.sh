#!/bin/bash
# Benchmark: MCP read-tool round trips over Streamable HTTP on loopback, op-dbus vs the MCP
# TypeScript SDK's own example server (simpleStreamableHttp, its trivial "greet" tool), in the
# same run and namespace: one client for latency (p50/p99), then 16 concurrent clients for
# SECONDS (requests/s, latency under load; errors must be 0). op-dbus answers retention_show, a
# read tool that goes through its engine executor and reads its state directory.
# Usage: bench/mcp_http.sh [SECONDS]   (root; needs scripts/setup.sh --all for tests/node)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_LOADED=${1:-30}
export OPDBUS=${OPDBUS:-$PWD/build/src/app/op-dbus}
. tests/integration/common.inc
export OPDBUS_NODE_DIR=$PWD/tests/node
. tests/integration/node.inc
nsip link set lo up
SDK_EXAMPLE=$NODE_DIR/node_modules/@modelcontextprotocol/sdk/dist/esm/examples/server/simpleStreamableHttp.js
start_mcp_http OPDBUS_URL "$OPDBUS" --state-dir "$STATE" mcp serve --http 127.0.0.1:0
in_ns env MCP_PORT=3000 "$NODE22" "$SDK_EXAMPLE" >"$WORK/sdk.log" 2>&1 &
SDK=$!
ON_EXIT+=("kill $SDK 2>/dev/null; wait $SDK 2>/dev/null")
for _ in $(seq 100); do grep -q listening "$WORK/sdk.log" && break; sleep 0.1; done
SDK_URL=http://127.0.0.1:3000/mcp

load() { in_ns "$NODE22" bench/mcp_load.mjs "$@"; }
echo "server        clients  seconds  requests  errors  req/s    p50 ms   p99 ms"
row() {
  local name=$1 clients=$2 seconds=$3 json
  shift 3
  json=$(load "$@")
  jq -r --arg n "$name" --arg c "$clients" --arg s "$seconds" \
    '"\($n|.+"             "|.[0:13]) \($c|.+"        "|.[0:8]) \($s|.+"        "|.[0:8]) \(.requests|tostring|.+"          "|.[0:9]) \(.errors|tostring|.+"        "|.[0:7]) \(.requests_per_second|tostring|.+"         "|.[0:8]) \(.p50_ms|tostring|.+"         "|.[0:8]) \(.p99_ms)"' <<<"$json"
  [ "$(jq .errors <<<"$json")" = 0 ] || echo "  errors: $(jq -r .first_error <<<"$json")"
  jq -r .requests_per_second <<<"$json" >"$WORK/$name-$clients.rps"
  jq -r .p50_ms <<<"$json" >"$WORK/$name-$clients.p50"
}
row op-dbus 1 10 "$OPDBUS_URL" 1 10 retention_show
row sdk-example 1 10 "$SDK_URL" 1 10 greet '{"name":"bench"}'
row op-dbus 16 "$SECONDS_LOADED" "$OPDBUS_URL" 16 "$SECONDS_LOADED" retention_show
row sdk-example 16 "$SECONDS_LOADED" "$SDK_URL" 16 "$SECONDS_LOADED" greet '{"name":"bench"}'
echo "p50 latency ratio (op-dbus / SDK example, 1 client): $(echo "scale=2; $(cat "$WORK/op-dbus-1.p50") / $(cat "$WORK/sdk-example-1.p50")" | bc)"
echo "throughput ratio (op-dbus / SDK example, 16 clients): $(echo "scale=2; $(cat "$WORK/op-dbus-16.rps") / $(cat "$WORK/sdk-example-16.rps")" | bc)"
