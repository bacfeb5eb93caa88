// The MCP server core (Model Context Protocol over JSON-RPC 2.0), independent of the transport:
// sessions, protocol negotiation (2025-11-25, down to 2025-06-18 and 2024-11-05), and serving a
// Catalogue of tools, resources and prompts, optionally behind four meta-tools (compact mode).
// Invariants: malformed input gets the JSON-RPC error it deserves (-32700 parse, -32600 invalid
// request, -32601 unknown method, -32602 bad params), never an exception or a crash; a tool that
// fails or is refused answers isError with the reason, so the agent can read it; handle() may be
// called from several threads at once (the catalogue's handlers serialise what they share).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "mcp/protocol.h"

namespace opdbus::mcp {

struct ServerOptions {
  bool compact = false;  // list_tools/search_tools/get_tool_schema/execute_tool only
  std::string name = "op-dbus";
  std::string version = "0.1";
};

class Server {
 public:
  Server(Catalogue catalogue, ServerOptions options);

  std::shared_ptr<Session> open_session(Principal principal);
  std::shared_ptr<Session> find_session(const std::string& id) const;
  bool close_session(const std::string& id);

  // The response to one message, if it wants one. `send` carries what the handler sends the
  // client while it works (progress, log messages, requests to the client).
  std::optional<Json> handle(Session& session, const Json& message, const Outlet& outlet);
  // The same for raw text: text that is not JSON gets the parse error.
  std::optional<Json> handle_text(Session& session, std::string_view text, const Outlet& outlet);

  // Asks the catalogue what changed and notifies the sessions subscribed to it.
  void poll_changes();

  const Catalogue& catalogue() const { return catalogue_; }
  static bool supports_protocol(const std::string& version);

 private:
  Result<Json> dispatch(Session& session, const std::string& method, const Json& params,
                        const Json& id, const Outlet& outlet);
  Result<Json> initialize(Session& session, const Json& params);
  Json list_tools(const Session& session) const;
  Result<Json> call_tool(Session& session, const Json& params, const Json& id,
                         const Outlet& outlet);
  Result<ToolOutput> run_tool(const Tool& tool, Call& call) const;
  Result<Json> read_resource(const Json& params) const;
  Result<Json> get_prompt(const Json& params) const;
  Result<Json> complete(const Json& params) const;
  Result<Json> subscribe(Session& session, const Json& params, bool on);
  void cancel(const Session& session, const Json& params);
  const Tool* find_tool(const std::string& name) const;
  std::vector<Tool> meta_tools() const;

  Catalogue catalogue_;
  ServerOptions options_;
  std::vector<Tool> meta_tools_;
  mutable std::mutex mutex_;  // sessions_ and in_flight_
  std::map<std::string, std::shared_ptr<Session>> sessions_;
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> in_flight_;  // by session + id
};

}  // namespace opdbus::mcp
