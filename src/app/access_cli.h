// The CLI's write gate (see engine/access.h): which command lines change the host or op-dbus's
// records, and what a user other than root gets instead: apply, commit and rollback are sent to
// the daemon's D-Bus API (org.opdbus.Manager1), which decides and records; every other write is
// refused with exit 7 and the refusal is noted for the ledger.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "app/commands.h"

namespace opdbus::cli {

struct WriteRequest {
  std::string command;  // "apply", "snapshot.create", ... (subcommands joined by '.')
  std::string file;     // apply's state file
  ApplyOptions options;
  bool rollback_to = false;
};

// The command line's subcommand path, e.g. "snapshot.create".
std::string command_path(const CLI::App& app);
// Whether the command changes the host or op-dbus's records.
bool is_write(const WriteRequest& request);
// For a write by a user other than root: the exit code of sending it to the daemon or of
// refusing it; nothing when this process may go on itself.
std::optional<int> gate_write(const Context& context, const Output& output,
                              const WriteRequest& request);

}  // namespace opdbus::cli
