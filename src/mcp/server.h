// The MCP server core (Model Context Protocol, JSON-RPC 2.0), independent of the transport:
// handle() takes one parsed message and returns the response, if the message wants one.
// Protocol revision 2025-11-25, negotiating down to 2025-06-18 and 2024-11-05. Tools are
// generated from the plugin descriptors (one schema, never a hand-written copy).
// Invariants: malformed input gets the JSON-RPC error it deserves (-32700 parse, -32600 invalid
// request, -32601 unknown method, -32602 bad params), never an exception or a crash; a tool that
// fails answers isError with the reason, so the agent can read it.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/json_util.h"
#include "base/result.h"
#include "engine/context.h"

namespace opdbus::mcp {

inline constexpr const char* kLatestProtocol = "2025-11-25";

struct Tool {
  std::string name;
  std::string title;
  std::string description;
  Json input_schema;
  Json output_schema;
  bool read_only = true;
  bool destructive = false;
  bool idempotent = true;
  std::function<Result<Json>(const Json& arguments)> run;  // the structured result
};

class Server {
 public:
  explicit Server(Context& context);

  // A response for a request; nothing for a notification or a response.
  std::optional<Json> handle(const Json& message);
  // The same for a raw line: a line that is not JSON gets the parse error.
  std::optional<Json> handle_text(std::string_view text);

  const std::vector<Tool>& tools() const { return tools_; }
  const std::string& protocol_version() const { return protocol_; }

 private:
  Result<Json> dispatch(const std::string& method, const Json& params);
  Result<Json> initialize(const Json& params);
  Json list_tools() const;
  Result<Json> call_tool(const Json& params);
  void add_plugin_tools();
  void add_ledger_tools();

  Context& context_;
  std::vector<Tool> tools_;
  std::string protocol_ = kLatestProtocol;
};

}  // namespace opdbus::mcp
