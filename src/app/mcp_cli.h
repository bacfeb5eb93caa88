// `op-dbus mcp serve`: the MCP server for AI agents, over stdio or Streamable HTTP.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "engine/context.h"

namespace opdbus::cli {

struct McpArgs {
  bool stdio = false;
  std::string http;         // ADDRESS:PORT
  std::string config_file;  // tokens, origins, D-Bus method tools
  bool compact = false;
  std::string web_root;  // the web UI's files, served at / over HTTP
};

void add_mcp_options(CLI::App& serve, McpArgs& args);
int run_mcp(Context& context, const McpArgs& args);

}  // namespace opdbus::cli
