#!/bin/bash
# Installs the Debian 12 packages op-dbus needs (apt, by name; nothing else is downloaded) and
# builds op-dbus (CMake, Release, ccache) into build/. Safe to run again: installs only what is
# missing and rebuilds incrementally. Pass --all to build the tests and benchmarks as well.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache
  libmnl-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  libexpected-dev libvalijson-dev libgtest-dev libgmock-dev libbenchmark-dev
  libssl-dev libsimdjson-dev libsqlite3-dev libbtrfsutil-dev libbtrfs-dev btrfs-progs
  libsystemd-dev libexpat1-dev dbus-daemon tzdata libcpp-httplib-dev
  libhwloc-dev libzstd-dev libxxhash-dev libopenblas-dev libhnswlib-dev libutf8proc-dev lxc-dev
  iproute2 jq clang-format clang libclang-rt-14-dev
)
# Real daemons the integration tests start in sandboxes of their own (with --all). They must not
# start on the host at install time: a policy-rc.d refusing service starts is in place meanwhile.
TEST_PACKAGES=(systemd systemd-container polkitd network-manager openvswitch-switch iputils-ping
  openssl curl nodejs chromium python3-numpy python3-onnx libfaiss-dev wireguard-go wireguard-tools
  busybox-static)
[ "${1:-}" = --all ] && PACKAGES+=("${TEST_PACKAGES[@]}")
# Debian's npm, unless an npm came with another nodejs build already installed.
[ "${1:-}" = --all ] && ! command -v npm >/dev/null && PACKAGES+=(npm)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing: ${missing[*]}"
  apt-get update -qq
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "==> building op-dbus (Release)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
if [ "${1:-}" = --all ]; then
  cmake --build build
else
  cmake --build build --target op-dbus
fi

if [ "${1:-}" = --all ]; then
  # The npm tools of the MCP and web UI tests (conformance suite, SDK client, playwright-core,
  # a Node 22 binary), pinned by tests/node/package-lock.json.
  installed=tests/node/node_modules/.package-lock.json
  if [ ! -f "$installed" ] || [ tests/node/package-lock.json -nt "$installed" ]; then
    echo "==> npm test tools (tests/node)"
    (cd tests/node && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
fi
