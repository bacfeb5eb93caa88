// The MCP stdio transport: newline-delimited JSON-RPC messages on stdin, responses on stdout
// (nothing else is ever written there), until stdin closes.
// Invariant: a line over the size limit is answered with a parse error and skipped.
#pragma once

#include <istream>
#include <ostream>

#include "mcp/server.h"

namespace opdbus::mcp {

void serve_stdio(Server& server, std::istream& in, std::ostream& out);

}  // namespace opdbus::mcp
