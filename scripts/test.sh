#!/bin/bash
# Runs the whole test suite: the clang-format check, the unit tests under ASan/UBSan, a short
# libFuzzer run of the ledger verifiers, then the Release build's unit and integration tests
# (CTest; integration tests need root and create their own namespaces, loop filesystems and
# directories). Expects scripts/setup.sh to have run.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> clang-format check"
find src tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format --dry-run --Werror

echo "==> unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DOPDBUS_SANITIZE=ON -DOPDBUS_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan --target unit_base unit_netlink unit_net_plugin unit_engine unit_ledger unit_store unit_dbus unit_mcp
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

echo "==> unit and integration tests (Release)"
cmake --build build
ctest --test-dir build --output-on-failure -j2
