// The MCP stdio transport: newline-delimited JSON-RPC messages on stdin, everything the server
// says on stdout (nothing else is ever written there), until stdin closes.
// Invariants: requests are served one at a time, in order, on a worker thread, while the reader
// keeps reading, so the client's answers to our requests and its cancellations arrive during a
// long tool call; a line over the size limit is answered with a parse error and skipped.
#pragma once

#include <istream>
#include <ostream>

#include "mcp/server.h"

namespace opdbus::mcp {

void serve_stdio(Server& server, std::istream& in, std::ostream& out);

}  // namespace opdbus::mcp
