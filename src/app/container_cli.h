// `op-dbus container list|show|start|stop|destroy`: LXC containers for people. Reading goes
// through the lxc plugin's query; every change is a one-container state document applied by the
// engine, so it is planned, checkpointed, verified and recorded in the ledger like `apply`.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "app/commands.h"

namespace opdbus::cli {

struct ContainerArgs {
  std::string name;
};

struct ContainerCommands {
  CLI::App* list = nullptr;
  CLI::App* show = nullptr;
  CLI::App* start = nullptr;
  CLI::App* stop = nullptr;
  CLI::App* destroy = nullptr;
};

ContainerCommands add_container_commands(CLI::App& app, ContainerArgs& args);
int run_container(Context& context, const Output& output, const ContainerCommands& commands,
                  const ContainerArgs& args, const ApplyOptions& options);

}  // namespace opdbus::cli
