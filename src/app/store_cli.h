// The `op-dbus snapshot ...` and `op-dbus retention ...` commands, and `rollback --to`.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/commands.h"

namespace opdbus::cli {

struct StoreArgs {
  bool dry_run = false;
  std::string replica;
  std::vector<std::string> assignments;
};

struct StoreCommands {
  CLI::App* snapshot_list = nullptr;
  CLI::App* snapshot_create = nullptr;
  CLI::App* snapshot_prune = nullptr;
  CLI::App* snapshot_send = nullptr;
  CLI::App* snapshot_receive = nullptr;
  CLI::App* retention_show = nullptr;
  CLI::App* retention_set = nullptr;
};

StoreCommands add_store_commands(CLI::App& app, StoreArgs& args);
int run_store(Context& context, const Output& output, const StoreCommands& commands,
              const StoreArgs& args);

}  // namespace opdbus::cli
