// `op-dbus topology show|place`: the machine's NUMA/L3/PCI topology and the placement the daemon
// would use, from this system or from an hwloc synthetic description or XML file (--input).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "app/commands.h"

namespace opdbus::cli {

struct TopologyArgs {
  std::string input;  // empty: this system
  std::string policy = "auto";
  std::string device;
};

struct TopologyCommands {
  CLI::App* show = nullptr;
  CLI::App* place = nullptr;
};

TopologyCommands add_topology_commands(CLI::App& app, TopologyArgs& args);
int run_topology(const Output& output, const TopologyCommands& commands, const TopologyArgs& args);

}  // namespace opdbus::cli
