// The op-dbus daemon (`op-dbus run`): applies the state file(s) at start, then keeps the host in
// that state, event-driven: each managed plugin's watch (netlink multicast, D-Bus signals, OVSDB
// monitor) wakes it; after a short debounce the plugin is planned against the declared state;
// drift is recorded in the ledger (with who made the change, where the protocol tells), enforce
// items are re-applied (rate-limited, backing off from an agent that fights), observe items only
// reported. SIGHUP or a change of a state file reloads and applies it as one transaction. It also
// serves org.opdbus.Manager1 when a bus is reachable, takes scheduled snapshots (with
// retention), talks to systemd (sd_notify READY/STATUS/WATCHDOG) and serves Prometheus
// metrics on a loopback port when asked, and MCP over Streamable HTTP (with the web UI): those
// requests run on the daemon's thread, handed over through LoopTasks.
// Invariants: one thread does all the work, waiting in one poll(2) (no polling intervals); the
// metrics thread only reads atomics; watches are RAII and replaced on reload, so reloads leak
// no descriptors.
#pragma once

#include <chrono>
#include <filesystem>
#include <vector>

#include "base/result.h"
#include "daemon/reconciler.h"
#include "engine/context.h"
#include "mcp/config.h"

namespace opdbus::daemon {

struct DaemonOptions {
  std::vector<std::filesystem::path> state_files;
  std::chrono::seconds snapshot_interval{3600};  // 0: no scheduled snapshots
  std::string metrics_address;                   // loopback ADDRESS:PORT for /metrics; "": none
  ReconcilePolicy policy;
  std::filesystem::path config_file;  // the daemon's config (placement); empty: defaults
  std::string mcp_address;  // ADDRESS:PORT for MCP over Streamable HTTP (and the web UI); "": none
  mcp::McpConfig mcp_config;
  std::filesystem::path web_root;
};

// Runs until SIGTERM or SIGINT; fails only when it cannot start.
Status run(Context& context, const DaemonOptions& options);

}  // namespace opdbus::daemon
