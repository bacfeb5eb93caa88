// `op-dbus run`: the command-line face of the daemon (src/daemon).
#pragma once

#include <string>

#include "daemon/daemon.h"
#include "engine/context.h"

namespace opdbus::cli {

int run_daemon(Context& context, daemon::DaemonOptions options, const std::string& mcp_config_file);

}  // namespace opdbus::cli
