// `op-dbus mcp serve`; see mcp_cli.h.
#include "app/mcp_cli.h"

#include <signal.h>

#include <iostream>

#include "app/commands.h"
#include "base/signal_pipe.h"
#include "daemon/config.h"
#include "mcp/config.h"
#include "mcp/host.h"
#include "mcp/http.h"
#include "mcp/server.h"
#include "mcp/stdio.h"

namespace opdbus::cli {

void add_mcp_options(CLI::App& serve, McpArgs& args) {
  auto* stdio = serve.add_flag("--stdio", args.stdio, "newline-delimited JSON-RPC on stdin/stdout");
  auto* http = serve.add_option("--http", args.http,
                                "Streamable HTTP on ADDRESS:PORT (loopback unless tokens are "
                                "configured); the web UI is served at /");
  stdio->excludes(http);
  serve.add_option("--config", args.config_file,
                   "MCP config: bearer tokens and their tools, allowed origins, D-Bus methods "
                   "offered as tools");
  serve.add_option("--web", args.web_root, "serve the web UI from this directory at /")
      ->default_val(OPDBUS_WEB_DIR);
  serve.add_flag("--compact", args.compact,
                 "offer four meta-tools (list/search/describe/execute) instead of every tool");
}

int run_mcp(Context& context, const McpArgs& args) {
  if (!args.stdio && args.http.empty())
    return report_error({ErrorCode::invalid_input, "mcp serve needs --stdio or --http", {}});
  mcp::McpConfig config;
  if (!args.config_file.empty()) {
    auto loaded = mcp::load_mcp_config(args.config_file);
    if (!loaded) return report_error(loaded.error());
    config = std::move(*loaded);
  }
  auto daemon_config = daemon::load_daemon_config_or_defaults({});
  if (!daemon_config) return report_error(daemon_config.error());
  config.host.anomaly = daemon_config->anomaly;
  mcp::Host host(context, config.host);
  mcp::Server server(host.catalogue(), {.compact = args.compact});
  if (args.stdio) {
    mcp::serve_stdio(server, std::cin, std::cout);
    return kOk;
  }
  auto address = mcp::parse_listen_address(args.http);
  if (!address) return report_error(address.error());
  auto signals = SignalPipe::install({SIGINT, SIGTERM});
  if (!signals) return report_error(signals.error());
  auto transport = mcp::HttpTransport::start(
      server, {.address = address->first,
               .port = address->second,
               .config = config,
               .web_root = std::filesystem::exists(args.web_root) ? args.web_root : ""});
  if (!transport) return report_error(transport.error());
  fmt::print(stderr, "op-dbus: MCP on {}\n", (*transport)->url());
  (*signals)->wait();
  (*transport)->stop();
  return kOk;
}

}  // namespace opdbus::cli
