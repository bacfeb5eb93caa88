#!/bin/bash
# Runs the whole test suite: the clang-format check, the unit tests under ASan/UBSan, then the
# Release build's unit and integration tests (CTest; integration tests need root and create
# their own network namespaces). Expects scripts/setup.sh to have run.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> clang-format check"
find src tests -name '*.cpp' -o -name '*.h' | xargs clang-format --dry-run --Werror

echo "==> unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DOPDBUS_SANITIZE=ON -DOPDBUS_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan --target unit_base unit_netlink unit_net_plugin unit_engine
ctest --test-dir build-asan -L unit --output-on-failure -j2 | tail -3

echo "==> unit and integration tests (Release)"
cmake --build build
ctest --test-dir build --output-on-failure -j2
