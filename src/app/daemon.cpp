// `op-dbus run`; see daemon.h. Without --state-file, /etc/op-dbus/state.json is managed when it
// exists; otherwise the daemon only serves the bus API and takes scheduled snapshots.
#include "app/daemon.h"

#include "app/commands.h"

namespace opdbus::cli {

int run_daemon(Context& context, daemon::DaemonOptions options) {
  std::error_code error;
  if (options.state_files.empty() && std::filesystem::exists("/etc/op-dbus/state.json", error))
    options.state_files.push_back("/etc/op-dbus/state.json");
  if (auto ran = daemon::run(context, options); !ran) return report_error(ran.error());
  return kOk;
}

}  // namespace opdbus::cli
