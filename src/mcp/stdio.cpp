// MCP over stdio; see stdio.h.
#include "mcp/stdio.h"

#include <string>

namespace opdbus::mcp {
namespace {
constexpr size_t kMaxMessage = 4 << 20;
}

void serve_stdio(Server& server, std::istream& in, std::ostream& out) {
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::optional<Json> response;
    if (line.size() > kMaxMessage)
      response = Json{{"jsonrpc", "2.0"},
                      {"id", nullptr},
                      {"error", {{"code", -32700}, {"message", "message over 4 MiB"}}}};
    else
      response = server.handle_text(line);
    if (response)
      out << response->dump(-1, ' ', false, Json::error_handler_t::replace) << '\n' << std::flush;
  }
}

}  // namespace opdbus::mcp
