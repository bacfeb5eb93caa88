// `op-dbus run`: the daemon. For now it serves org.opdbus.Manager1 on the bus until SIGTERM or
// SIGINT; applying state files at start and the event-driven drift watch join it later.
#pragma once

#include "engine/context.h"

namespace opdbus::cli {

int run_daemon(Context& context);

}  // namespace opdbus::cli
