// `op-dbus run`; see daemon.h. Without --state-file, /etc/op-dbus/state.json is managed when it
// exists; otherwise the daemon only serves the bus API and takes scheduled snapshots.
#include "app/daemon.h"

#include "app/commands.h"
#include "daemon/config.h"

namespace opdbus::cli {

int run_daemon(Context& context, daemon::DaemonOptions options,
               const std::string& mcp_config_file) {
  std::error_code error;
  if (!mcp_config_file.empty()) {
    auto config = mcp::load_mcp_config(mcp_config_file);
    if (!config) return report_error(config.error());
    options.mcp_config = std::move(*config);
  }
  if (!std::filesystem::exists(options.web_root, error)) options.web_root.clear();
  options.config_file = daemon::daemon_config_path(options.config_file);
  if (options.state_files.empty() && std::filesystem::exists("/etc/op-dbus/state.json", error))
    options.state_files.push_back("/etc/op-dbus/state.json");
  if (auto ran = daemon::run(context, options); !ran) return report_error(ran.error());
  return kOk;
}

}  // namespace opdbus::cli
