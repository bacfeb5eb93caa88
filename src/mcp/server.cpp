// The MCP server core; see server.h.
#include "mcp/server.h"

#include <fnmatch.h>
#include <sys/random.h>

#include <algorithm>

#include "engine/schema_check.h"

namespace opdbus::mcp {
namespace {

constexpr const char* kSupportedProtocols[] = {"2025-11-25", "2025-06-18", "2024-11-05"};
constexpr size_t kCompletionLimit = 100;

int error_code_for(const Error& error) {
  switch (error.code) {
    case ErrorCode::invalid_input:
      return kInvalidParams;
    case ErrorCode::not_found:
      return kMethodNotFound;
    default:
      return kInternalError;
  }
}

std::string random_session_id() {
  unsigned char bytes[16];
  size_t filled = 0;
  while (filled < sizeof bytes) {
    auto got = ::getrandom(bytes + filled, sizeof bytes - filled, 0);
    if (got > 0) filled += static_cast<size_t>(got);
  }
  std::string id;
  for (unsigned char byte : bytes) id += fmt::format("{:02x}", byte);
  return id;
}

std::string in_flight_key(const Session& session, const Json& id) {
  return session.id() + "\n" + id.dump();
}

// The tool is allowed to this principal, or why not.
Status authorize(const Principal& principal, const Tool& tool) {
  if (!tool.read_only && !principal.may_write)
    return fail(ErrorCode::conflict, "{} changes the host and '{}' may only read", tool.name,
                principal.name);
  if (principal.patterns.empty()) return ok();
  for (const auto& pattern : principal.patterns)
    if (::fnmatch(pattern.c_str(), tool.name.c_str(), 0) == 0) return ok();
  return fail(ErrorCode::conflict, "the policy does not allow '{}' to call {}", principal.name,
              tool.name);
}

Json filter_completions(std::vector<std::string> values, const std::string& typed) {
  std::erase_if(values, [&](const std::string& value) { return value.rfind(typed, 0) != 0; });
  Json out = {{"total", values.size()}, {"hasMore", values.size() > kCompletionLimit}};
  if (values.size() > kCompletionLimit) values.resize(kCompletionLimit);
  out["values"] = values;
  return out;
}

}  // namespace

bool Server::supports_protocol(const std::string& version) {
  return std::any_of(std::begin(kSupportedProtocols), std::end(kSupportedProtocols),
                     [&](const char* supported) { return version == supported; });
}

Server::Server(Catalogue catalogue, ServerOptions options)
    : catalogue_(std::move(catalogue)), options_(std::move(options)) {
  meta_tools_ = meta_tools();
}

std::shared_ptr<Session> Server::open_session(Principal principal) {
  auto session = std::make_shared<Session>(random_session_id(), std::move(principal));
  std::lock_guard lock(mutex_);
  sessions_[session->id()] = session;
  return session;
}

std::shared_ptr<Session> Server::find_session(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto found = sessions_.find(id);
  return found == sessions_.end() ? nullptr : found->second;
}

bool Server::close_session(const std::string& id) {
  std::lock_guard lock(mutex_);
  return sessions_.erase(id) > 0;
}

std::optional<Json> Server::handle_text(Session& session, std::string_view text,
                                        const Outlet& outlet) {
  auto message = Json::parse(text, nullptr, false);
  if (message.is_discarded()) return error_response(nullptr, kParseError, "parse error: not JSON");
  return handle(session, message, outlet);
}

std::optional<Json> Server::handle(Session& session, const Json& message, const Outlet& outlet) {
  if (message.is_array())
    return error_response(nullptr, kInvalidRequest, "batches are not part of MCP");
  if (!message.is_object() || !message.contains("jsonrpc") || message["jsonrpc"] != "2.0")
    return error_response(nullptr, kInvalidRequest, "not a JSON-RPC 2.0 message");
  if (!message.contains("method")) {  // the client's answer to a request of ours
    if (message.contains("id") && message["id"].is_string())
      session.deliver_answer(message["id"].get<std::string>(), message);
    return std::nullopt;
  }
  bool request = message.contains("id");
  const auto& id = request ? message["id"] : Json();
  if (request && !id.is_string() && !id.is_number_integer())
    return error_response(nullptr, kInvalidRequest, "id must be a string or an integer");
  if (!message["method"].is_string())
    return error_response(id, kInvalidRequest, "method must be a string");
  auto params = message.value("params", Json::object());
  if (!params.is_object()) return error_response(id, kInvalidParams, "params must be an object");
  Result<Json> result = Json();
  try {
    result = dispatch(session, message["method"].get<std::string>(), params, id, outlet);
  } catch (const Json::exception& error) {  // a member of the wrong JSON type in the params
    result = fail(ErrorCode::invalid_input, "malformed params: {}", error.what());
  }
  if (!request) return std::nullopt;  // notifications get no answer, even when they fail
  if (!result) return error_response(id, error_code_for(result.error()), result.error().describe());
  return Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", *result}};
}

Result<Json> Server::dispatch(Session& session, const std::string& method, const Json& params,
                              const Json& id, const Outlet& outlet) {
  if (method == "initialize") return initialize(session, params);
  if (method == "ping") return Json::object();
  if (method == "tools/list") return list_tools(session);
  if (method == "tools/call") return call_tool(session, params, id, outlet);
  if (method == "resources/list") {
    Json list = Json::array();
    for (const auto& resource : catalogue_.resources)
      list.push_back({{"uri", resource.uri},
                      {"name", resource.name},
                      {"title", resource.title},
                      {"description", resource.description},
                      {"mimeType", resource.mime_type}});
    return Json{{"resources", list}};
  }
  if (method == "resources/templates/list") {
    Json list = Json::array();
    for (const auto& entry : catalogue_.templates)
      list.push_back({{"uriTemplate", entry.uri_template},
                      {"name", entry.name},
                      {"title", entry.title},
                      {"description", entry.description},
                      {"mimeType", entry.mime_type}});
    return Json{{"resourceTemplates", list}};
  }
  if (method == "resources/read") return read_resource(params);
  if (method == "resources/subscribe") return subscribe(session, params, true);
  if (method == "resources/unsubscribe") return subscribe(session, params, false);
  if (method == "prompts/list") {
    Json list = Json::array();
    for (const auto& prompt : catalogue_.prompts)
      list.push_back({{"name", prompt.name},
                      {"title", prompt.title},
                      {"description", prompt.description},
                      {"arguments", prompt.arguments}});
    return Json{{"prompts", list}};
  }
  if (method == "prompts/get") return get_prompt(params);
  if (method == "completion/complete") return complete(params);
  if (method == "logging/setLevel") {
    auto rank = log_level_rank(params.value("level", ""));
    if (!rank) return fail(ErrorCode::invalid_input, "unknown log level");
    session.set_log_level(*rank);
    return Json::object();
  }
  if (method == "notifications/cancelled") {
    cancel(session, params);
    return Json::object();
  }
  if (method.rfind("notifications/", 0) == 0) return Json::object();
  return fail(ErrorCode::not_found, "method '{}' not found", method);
}

Result<Json> Server::initialize(Session& session, const Json& params) {
  auto asked = params.value("protocolVersion", "");
  auto protocol = supports_protocol(asked) ? asked : std::string(kLatestProtocol);
  auto client = params.value("clientInfo", Json::object());
  session.set_client(protocol, client.is_object() ? client.value("name", "unknown") : "unknown",
                     params.value("capabilities", Json::object()));
  Json capabilities = {{"tools", {{"listChanged", false}}}, {"logging", Json::object()}};
  if (!catalogue_.resources.empty() || !catalogue_.templates.empty())
    capabilities["resources"] = {{"subscribe", true}, {"listChanged", false}};
  if (!catalogue_.prompts.empty()) capabilities["prompts"] = {{"listChanged", false}};
  capabilities["completions"] = Json::object();
  return Json{{"protocolVersion", protocol},
              {"capabilities", capabilities},
              {"serverInfo", {{"name", options_.name}, {"version", options_.version}}},
              {"instructions", catalogue_.instructions}};
}

Json Server::list_tools(const Session& session) const {
  bool output_schemas = session.protocol() != "2024-11-05";
  Json list = Json::array();
  for (const auto& tool : options_.compact ? meta_tools_ : catalogue_.tools)
    list.push_back(tool.describe(output_schemas));
  return {{"tools", list}};
}

const Tool* Server::find_tool(const std::string& name) const {
  for (const auto* tools : {&catalogue_.tools, &meta_tools_})
    for (const auto& tool : *tools)
      if (tool.name == name) return &tool;
  return nullptr;
}

Result<Json> Server::call_tool(Session& session, const Json& params, const Json& id,
                               const Outlet& outlet) {
  if (!params.contains("name") || !params["name"].is_string())
    return fail(ErrorCode::invalid_input, "tools/call needs a tool name");
  auto name = params["name"].get<std::string>();
  const auto* tool = find_tool(name);
  if (!tool) return fail(ErrorCode::invalid_input, "unknown tool '{}'", name);
  auto arguments = params.value("arguments", Json::object());
  auto progress_token = params.value("_meta", Json::object()).value("progressToken", Json());
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  auto key = in_flight_key(session, id);
  {
    std::lock_guard lock(mutex_);
    in_flight_[key] = cancelled;
  }
  Call call(session, std::move(arguments), progress_token, outlet, cancelled);
  auto output = run_tool(*tool, call);
  {
    std::lock_guard lock(mutex_);
    in_flight_.erase(key);
  }
  if (!output) output = ToolOutput::error(output.error().describe());
  Json result = {{"content", output->content}, {"isError", output->is_error}};
  if (!output->structured.is_null() && session.protocol() != "2024-11-05")
    result["structuredContent"] = output->structured;
  return result;
}

// The principal's policy first (a refused caller learns nothing about the arguments, and every
// refused call is recorded; a meta-tool's policy is that of the tool it runs), then the arguments
// against the tool's input schema; both failures are tool errors the agent can read and correct
// (MCP 2025-11-25).
Result<ToolOutput> Server::run_tool(const Tool& tool, Call& call) const {
  bool meta = std::any_of(meta_tools_.begin(), meta_tools_.end(),
                          [&](const Tool& each) { return &each == &tool; });
  if (auto allowed = meta ? ok() : authorize(call.session.principal(), tool); !allowed) {
    if (catalogue_.on_denied) catalogue_.on_denied(call.session, tool, allowed.error().message);
    return ToolOutput::error("refused: " + allowed.error().message);
  }
  if (auto problems = check_against_schema(tool.input_schema, call.arguments, "");
      !problems.empty()) {
    std::string text = "invalid arguments for " + tool.name + ":";
    for (const auto& problem : problems)
      text += "\n  " + (problem.pointer.empty() ? "/" : problem.pointer) + ": " + problem.message;
    return ToolOutput::error(text);
  }
  return tool.run(call);
}

Result<Json> Server::read_resource(const Json& params) const {
  auto uri = params.value("uri", "");
  if (uri.empty()) return fail(ErrorCode::invalid_input, "resources/read needs a uri");
  for (const auto& resource : catalogue_.resources)
    if (resource.uri == uri) return Json{{"contents", TRY(resource.read(uri))}};
  for (const auto& entry : catalogue_.templates) {
    if (uri.rfind(entry.prefix(), 0) != 0) continue;
    auto contents = entry.read(uri);
    if (!contents && contents.error().code == ErrorCode::not_found) continue;
    return Json{{"contents", TRY(std::move(contents))}};
  }
  return make_failure(
      Error{ErrorCode::invalid_input, fmt::format("resource not found: {}", uri), {}});
}

Result<Json> Server::subscribe(Session& session, const Json& params, bool on) {
  auto uri = params.value("uri", "");
  if (uri.empty()) return fail(ErrorCode::invalid_input, "a subscription needs a uri");
  session.subscribe(uri, on);
  return Json::object();
}

void Server::poll_changes() {
  if (!catalogue_.poll_changes) return;
  auto changed = catalogue_.poll_changes();
  if (changed.empty()) return;
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, session] : sessions_) sessions.push_back(session);
  }
  for (const auto& session : sessions)
    for (const auto& uri : changed)
      if (session->subscribed(uri) && session->push)
        session->push({{"jsonrpc", "2.0"},
                       {"method", "notifications/resources/updated"},
                       {"params", {{"uri", uri}}}});
}

Result<Json> Server::get_prompt(const Json& params) const {
  auto name = params.value("name", "");
  auto arguments = params.value("arguments", Json::object());
  for (const auto& prompt : catalogue_.prompts) {
    if (prompt.name != name) continue;
    for (const auto& argument : prompt.arguments)
      if (argument.value("required", false) && !arguments.contains(argument["name"]))
        return fail(ErrorCode::invalid_input, "prompt {} needs the argument '{}'", name,
                    argument["name"].get<std::string>());
    return prompt.get(arguments);
  }
  return fail(ErrorCode::invalid_input, "unknown prompt '{}'", name);
}

Result<Json> Server::complete(const Json& params) const {
  auto ref = params.value("ref", Json::object());
  auto argument = params.value("argument", Json::object());
  auto name = argument.value("name", "");
  auto typed = argument.value("value", "");
  std::vector<std::string> values;
  if (ref.value("type", "") == "ref/prompt") {
    for (const auto& prompt : catalogue_.prompts)
      if (prompt.name == ref.value("name", "") && prompt.complete)
        values = prompt.complete(name, typed);
  } else if (ref.value("type", "") == "ref/resource") {
    for (const auto& entry : catalogue_.templates)
      if (entry.uri_template == ref.value("uri", "") && entry.complete)
        values = entry.complete(name, typed);
  } else {
    return fail(ErrorCode::invalid_input, "completion needs a ref/prompt or ref/resource");
  }
  return Json{{"completion", filter_completions(std::move(values), typed)}};
}

void Server::cancel(const Session& session, const Json& params) {
  if (!params.contains("requestId")) return;
  std::lock_guard lock(mutex_);
  auto found = in_flight_.find(in_flight_key(session, params["requestId"]));
  if (found != in_flight_.end()) found->second->store(true);
}

}  // namespace opdbus::mcp
