#!/bin/bash
# Runs the whole test suite: the clang-format check, the unit tests under ASan/UBSan, a short
# libFuzzer run of the ledger verifiers, then the Release build's unit and integration tests
# (CTest; integration tests need root and create their own namespaces, loop filesystems and
# directories). Expects scripts/setup.sh to have run.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> clang-format check"
find src tests bench -path tests/node -prune -o \( -name '*.cpp' -o -name '*.h' \) -print | xargs clang-format --dry-run --Werror

echo "==> unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DOPDBUS_SANITIZE=ON -DOPDBUS_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan --target unit_base unit_netlink unit_wireguard unit_net_plugin unit_engine unit_ledger unit_store unit_dbus unit_mcp unit_topology unit_ml unit_mesh unit_compliance
ctest --test-dir build-asan -L unit --output-on-failure -j2 | tail -3

echo "==> fuzzing the ledger reader and proof verifiers (libFuzzer, ${OPDBUS_FUZZ_SECONDS:-30} s)"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DOPDBUS_FUZZ=ON -DOPDBUS_BUILD_TESTS=OFF -DOPDBUS_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz --target fuzz_ledger
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
if ! OPDBUS_FUZZ_SEEDS=$corpus build-fuzz/tests/fuzz/fuzz_ledger -print_final_stats=1 \
  -max_total_time="${OPDBUS_FUZZ_SECONDS:-30}" "$corpus" >"$corpus/log" 2>&1; then
  tail -n 40 "$corpus/log"
  exit 1
fi
grep -E 'stat::(number_of_executed_units|new_units_added)' "$corpus/log"

echo "==> fuzzing the MCP server core (libFuzzer, ${OPDBUS_MCP_FUZZ_SECONDS:-20} s)"
cmake --build build-fuzz --target fuzz_mcp
mcp_corpus=$corpus/mcp
mkdir -p "$mcp_corpus"
seed=0
for message in \
  '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{}}}}' \
  '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x","items":[1]},"_meta":{"progressToken":1}}}' \
  '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"execute_tool","arguments":{"name":"echo","arguments":{}}}}' \
  '{"jsonrpc":"2.0","id":4,"method":"prompts/get","params":{"name":"p","arguments":{"x":"1"}}}' \
  '{"jsonrpc":"2.0","id":5,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"p"},"argument":{"name":"x","value":""}}}' \
  '{"jsonrpc":"2.0","id":6,"method":"resources/read","params":{"uri":"test://one"}}' \
  '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2}}'; do
  printf '%s' "$message" >"$mcp_corpus/seed$((seed++))"
done
if ! build-fuzz/tests/fuzz/fuzz_mcp -print_final_stats=1 -max_len=4096 \
  -max_total_time="${OPDBUS_MCP_FUZZ_SECONDS:-20}" "$mcp_corpus" >"$corpus/mcp.log" 2>&1; then
  tail -n 40 "$corpus/mcp.log"
  exit 1
fi
grep -E 'stat::(number_of_executed_units|new_units_added)' "$corpus/mcp.log"

echo "==> unit and integration tests (Release)"
cmake --build build
ctest --test-dir build --output-on-failure -j2
