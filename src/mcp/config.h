// The MCP server's configuration file (JSON): bearer tokens and what each may call, the origins
// a browser may call from, and which D-Bus services' methods are offered as tools.
//   {"tokens": {"NAME": {"token_sha256": "HEX", "access": "read"|"write", "tools": ["GLOB"]}},
//    "allowed_origins": ["http://127.0.0.1:8080"],
//    "dbus_methods": [{"service": "org.example", "interface": "org.example.Iface"}]}
// Invariants: only token hashes are stored; a presented token is compared by its SHA-256 in
// constant time; an unknown key anywhere is an error naming it (a typo never widens access).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "mcp/host.h"
#include "mcp/protocol.h"

namespace opdbus::mcp {

struct TokenEntry {
  std::string name;
  std::string sha256_hex;
  Principal principal;
};

struct McpConfig {
  std::vector<TokenEntry> tokens;
  std::vector<std::string> allowed_origins;
  HostOptions host;

  // The principal a bearer token stands for, if any entry has it.
  std::optional<Principal> principal_for(std::string_view token) const;
};

Result<McpConfig> parse_mcp_config(const Json& json);
Result<McpConfig> load_mcp_config(const std::filesystem::path& file);

}  // namespace opdbus::mcp
