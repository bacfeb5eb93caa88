// The daemon's own configuration file (JSON, `op-dbus run --config FILE`, default
// /etc/op-dbus/config.json when it exists), re-read on SIGHUP and when the file changes:
//   {"placement": "auto" | "off" | "node:N", "placement_device": "cuda0",
//    "anomaly": {"threshold": 0.85, "plugins": {"systemd": 0.9}, "sample_interval": 300,
//                "persistence": 2, "auto_rollback": false,
//                "embedder": "structural" | {"model": "/var/lib/op-dbus/models/all-MiniLM-L6-v2/
//                            model.safetensors", "vocab": ".../vocab.txt", "max_tokens": 256}},
//    "access": {"group": "opdbus"},   members may Apply, Commit and Rollback over D-Bus
//    "compliance": {"checks": "/etc/op-dbus/checks.yaml", "interval": 3600}}   run and recorded
// Invariant: an unknown key or a bad value is an error naming it, and a bad file never replaces a
// good configuration.
#pragma once

#include <filesystem>

#include <chrono>

#include "base/result.h"
#include "engine/access.h"
#include "ml/anomaly.h"
#include "topology/placement.h"

namespace opdbus::daemon {

struct DaemonConfig {
  topology::PlacementPolicy placement;
  ml::AnomalyConfig anomaly;
  std::chrono::seconds sample_interval{300};  // state samples for anomaly detection; 0: none
  bool auto_rollback = false;  // an anomaly in a drift or sample restores the last normal state
  AccessPolicy access;         // D-Bus writers admitted besides root and polkit's verdict
  std::filesystem::path checks_file;  // compliance checks run on a schedule; empty: none
  std::chrono::seconds checks_interval{3600};
};

inline constexpr const char* kDefaultDaemonConfig = "/etc/op-dbus/config.json";

Result<DaemonConfig> parse_daemon_config(const Json& json);
Result<DaemonConfig> load_daemon_config(const std::filesystem::path& file);
// `file` when given, else kDefaultDaemonConfig when it exists, else none (empty).
std::filesystem::path daemon_config_path(const std::filesystem::path& file);
// The configuration in daemon_config_path(file); the defaults when there is no file.
Result<DaemonConfig> load_daemon_config_or_defaults(const std::filesystem::path& file);

}  // namespace opdbus::daemon
