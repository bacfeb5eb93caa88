// `op-dbus anomaly scan|history|baseline`: check the current state against what has been seen,
// list recorded anomalies, and manage the baseline of normal states. They use the daemon's
// anomaly settings (--config, default /etc/op-dbus/config.json when it exists), so a scan embeds
// with the same embedder and compares with the same baseline as the daemon.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "app/commands.h"

namespace opdbus::cli {

struct AnomalyArgs {
  std::optional<std::string> plugin;
  std::optional<double> threshold;  // overrides the config file's
  std::string config_file;  // the daemon's config (its "anomaly" section: embedder, thresholds)
  size_t count = 20;
  int64_t vector = 0;
};

struct AnomalyCommands {
  CLI::App* scan = nullptr;
  CLI::App* history = nullptr;
  CLI::App* show = nullptr;
  CLI::App* reset = nullptr;
  CLI::App* learn = nullptr;
  CLI::App* accept = nullptr;
};

AnomalyCommands add_anomaly_commands(CLI::App& app, AnomalyArgs& args);
int run_anomaly(Context& context, const Output& output, const AnomalyCommands& commands,
                const AnomalyArgs& args);

}  // namespace opdbus::cli
