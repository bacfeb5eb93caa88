// The MCP vocabulary shared by the server core, the transports and the catalogues: sessions (one
// per connected client), the Call a tool or resource handler gets (progress, logging, requests to
// the client, cancellation), and the catalogue entries (tools, resources, resource templates,
// prompts).
// Invariants: catalogue entries are immutable once the server runs (read without locks); a
// Session guards its own mutable fields; a handler never blocks forever on the client (every
// request to it has a deadline).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/json_util.h"
#include "base/result.h"

namespace opdbus::mcp {

inline constexpr const char* kLatestProtocol = "2025-11-25";

enum JsonRpcError {
  kParseError = -32700,
  kInvalidRequest = -32600,
  kMethodNotFound = -32601,
  kInvalidParams = -32602,
  kInternalError = -32603,
  kResourceNotFound = -32002,
};

Json error_response(const Json& id, int code, const std::string& message);

// Who is on the other end and what they may do: set by the transport (a token's policy entry,
// or the local user on stdio).
struct Principal {
  std::string name = "local";         // a token's name, recorded in the ledger
  bool may_write = true;              // write tools (apply, rollback, ...)
  std::vector<std::string> patterns;  // tool name globs allowed; empty: every tool of its class
};

// One client connection. `push` delivers a message the server sends unprompted (resource updates,
// requests to the client); the transport sets it.
class Session {
 public:
  explicit Session(std::string id, Principal principal)
      : id_(std::move(id)), principal_(std::move(principal)) {}
  const std::string& id() const { return id_; }
  const Principal& principal() const { return principal_; }

  void set_client(std::string protocol, std::string client_name, Json capabilities);
  std::string protocol() const;
  std::string client_name() const;
  bool client_supports(const std::string& capability) const;
  bool initialized() const;

  void set_log_level(int rank);
  int log_level() const;
  void subscribe(const std::string& uri, bool on);
  bool subscribed(const std::string& uri) const;

  // A request to the client: the id to use, and later the answer for it.
  std::string expect_answer();
  void deliver_answer(const std::string& id, Json answer);
  std::optional<Json> await_answer(const std::string& id, std::chrono::milliseconds timeout);
  // Ends every wait for an answer now and refuses new ones (the server is stopping).
  void abandon();

  std::function<void(const Json&)> push;

 private:
  const std::string id_;
  const Principal principal_;
  mutable std::mutex mutex_;
  std::condition_variable answered_;
  std::string protocol_ = kLatestProtocol;
  std::string client_name_ = "unknown";
  Json capabilities_ = Json::object();
  bool initialized_ = false;
  bool abandoned_ = false;
  int log_level_ = 1;  // "info"
  std::set<std::string> subscriptions_;
  uint64_t next_request_ = 1;
  std::map<std::string, std::optional<Json>> answers_;  // outstanding requests to the client
};

// Where a request's handler sends what it says before its response: `send` a message on the
// request's own stream; `release`, when the transport supports it, ends that stream early (the
// rest, response included, is kept for the client to fetch when it reconnects: SSE polling).
struct Outlet {
  std::function<void(const Json&)> send;
  std::function<void()> release;
};

// What a handler can do while it serves one request.
class Call {
 public:
  Call(Session& caller, Json given, Json progress_token, Outlet outlet,
       std::shared_ptr<std::atomic<bool>> cancelled)
      : session(caller),
        arguments(std::move(given)),
        progress_token_(std::move(progress_token)),
        outlet_(std::move(outlet)),
        cancelled_(std::move(cancelled)) {}

  Session& session;
  const Json arguments;

  bool wants_progress() const { return !progress_token_.is_null(); }
  void progress(double done, std::optional<double> total, const std::string& message = {});
  // notifications/message when `level` is at or above the session's level.
  void log(const std::string& level, const Json& data, const std::string& logger = "op-dbus");
  // A request to the client (sampling/createMessage, elicitation/create, ...) and its result.
  Result<Json> ask(const std::string& method, Json params,
                   std::chrono::milliseconds timeout = std::chrono::minutes(5));
  bool cancelled() const { return cancelled_ && cancelled_->load(); }
  // Lets the transport end the response stream now (see Outlet).
  void release_stream() {
    if (outlet_.release) outlet_.release();
  }
  // The same call with other arguments (a meta-tool running the tool it names).
  Call with_arguments(Json other) const {
    return Call(session, std::move(other), progress_token_, outlet_, cancelled_);
  }

 private:
  void send(const Json& message) {
    if (outlet_.send) outlet_.send(message);
  }
  Json progress_token_;
  Outlet outlet_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
};

// The rank of an RFC 5424 level name as MCP spells it ("debug" 0 ... "emergency" 7), or nothing.
std::optional<int> log_level_rank(const std::string& level);

struct ToolOutput {
  Json content = Json::array();
  Json structured;  // null: none
  bool is_error = false;
  // A structured result, with its JSON text as the content for clients that read only text.
  static ToolOutput of(Json structured);
  static ToolOutput error(const std::string& text);
};

struct Tool {
  std::string name;
  std::string title;
  std::string description;
  Json input_schema;
  Json output_schema;  // null: none
  bool read_only = true;
  bool destructive = false;
  bool idempotent = true;
  bool open_world = false;
  std::function<Result<ToolOutput>(Call&)> run;
  Json describe(bool with_output_schema) const;
};

struct Resource {
  std::string uri;
  std::string name;
  std::string title;
  std::string description;
  std::string mime_type;
  std::function<Result<Json>(const std::string& uri)> read;  // the `contents` array
};

// A family of resources, "opdbus://ledger/{height}": `prefix` is the template up to its first
// variable; `read` gets the full URI and fails with not_found when nothing is there.
struct ResourceTemplate {
  std::string uri_template;
  std::string name;
  std::string title;
  std::string description;
  std::string mime_type;
  std::function<Result<Json>(const std::string& uri)> read;
  std::function<std::vector<std::string>(const std::string& argument, const std::string& value)>
      complete;
  std::string prefix() const { return uri_template.substr(0, uri_template.find('{')); }
};

struct Prompt {
  std::string name;
  std::string title;
  std::string description;
  Json arguments = Json::array();                          // [{"name", "description", "required"}]
  std::function<Result<Json>(const Json& arguments)> get;  // {"description", "messages"}
  std::function<std::vector<std::string>(const std::string& argument, const std::string& value)>
      complete;
};

// {"type": "object", "properties", "required", "additionalProperties": false}: the shape of every
// tool's arguments.
Json object_schema(Json properties, Json required = Json::array());

// Everything a catalogue offers; the server core serves it.
struct Catalogue {
  std::vector<Tool> tools;
  std::vector<Resource> resources;
  std::vector<ResourceTemplate> templates;
  std::vector<Prompt> prompts;
  std::string instructions;
  // Called when a session is refused a tool, so the refusal can be recorded.
  std::function<void(const Session&, const Tool&, const std::string& reason)> on_denied;
  // Called when a transport refuses a request before any session exists (no or an unknown bearer
  // token, an untrusted Host or Origin), so the refusal can be recorded; `peer` is its address.
  std::function<void(const std::string& reason, const std::string& peer)> on_refused;
  // Called periodically; returns the URIs of resources that changed since the last call.
  std::function<std::vector<std::string>()> poll_changes;
};

}  // namespace opdbus::mcp
