// `op-dbus run`: the command-line face of the daemon (src/daemon).
#pragma once

#include "daemon/daemon.h"
#include "engine/context.h"

namespace opdbus::cli {

int run_daemon(Context& context, daemon::DaemonOptions options);

}  // namespace opdbus::cli
