// Sessions, calls and catalogue entries; see protocol.h.
#include "mcp/protocol.h"

namespace opdbus::mcp {
namespace {
constexpr const char* kLogLevels[] = {"debug", "info",     "notice", "warning",
                                      "error", "critical", "alert",  "emergency"};
}

Json object_schema(Json properties, Json required) {
  return {{"type", "object"},
          {"properties", std::move(properties)},
          {"required", std::move(required)},
          {"additionalProperties", false}};
}

Json error_response(const Json& id, int code, const std::string& message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

std::optional<int> log_level_rank(const std::string& level) {
  for (int rank = 0; rank < 8; ++rank)
    if (level == kLogLevels[rank]) return rank;
  return std::nullopt;
}

void Session::set_client(std::string protocol, std::string client_name, Json capabilities) {
  std::lock_guard lock(mutex_);
  protocol_ = std::move(protocol);
  client_name_ = std::move(client_name);
  capabilities_ = std::move(capabilities);
  initialized_ = true;
}

std::string Session::protocol() const {
  std::lock_guard lock(mutex_);
  return protocol_;
}

std::string Session::client_name() const {
  std::lock_guard lock(mutex_);
  return client_name_;
}

bool Session::client_supports(const std::string& capability) const {
  std::lock_guard lock(mutex_);
  return capabilities_.is_object() && capabilities_.contains(capability);
}

bool Session::initialized() const {
  std::lock_guard lock(mutex_);
  return initialized_;
}

void Session::set_log_level(int rank) {
  std::lock_guard lock(mutex_);
  log_level_ = rank;
}

int Session::log_level() const {
  std::lock_guard lock(mutex_);
  return log_level_;
}

void Session::subscribe(const std::string& uri, bool on) {
  std::lock_guard lock(mutex_);
  if (on)
    subscriptions_.insert(uri);
  else
    subscriptions_.erase(uri);
}

bool Session::subscribed(const std::string& uri) const {
  std::lock_guard lock(mutex_);
  return subscriptions_.contains(uri);
}

void Session::abandon() {
  std::lock_guard lock(mutex_);
  abandoned_ = true;
  answered_.notify_all();
}

std::string Session::expect_answer() {
  std::lock_guard lock(mutex_);
  auto id = "op-dbus-" + std::to_string(next_request_++);
  answers_[id] = std::nullopt;
  return id;
}

void Session::deliver_answer(const std::string& id, Json answer) {
  std::lock_guard lock(mutex_);
  auto found = answers_.find(id);
  if (found == answers_.end()) return;  // not ours, or given up on
  found->second = std::move(answer);
  answered_.notify_all();
}

std::optional<Json> Session::await_answer(const std::string& id,
                                          std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  answered_.wait_for(lock, timeout, [&] { return abandoned_ || answers_[id].has_value(); });
  auto answer = std::move(answers_[id]);
  answers_.erase(id);
  return answer;
}

void Call::progress(double done, std::optional<double> total, const std::string& message) {
  if (!wants_progress()) return;
  Json params = {{"progressToken", progress_token_}, {"progress", done}};
  if (total) params["total"] = *total;
  if (!message.empty()) params["message"] = message;
  send({{"jsonrpc", "2.0"}, {"method", "notifications/progress"}, {"params", params}});
}

void Call::log(const std::string& level, const Json& data, const std::string& logger) {
  auto rank = log_level_rank(level);
  if (!rank || *rank < session.log_level()) return;
  send({{"jsonrpc", "2.0"},
        {"method", "notifications/message"},
        {"params", {{"level", level}, {"logger", logger}, {"data", data}}}});
}

Result<Json> Call::ask(const std::string& method, Json params, std::chrono::milliseconds timeout) {
  auto id = session.expect_answer();
  send({{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}});
  auto answer = session.await_answer(id, timeout);
  if (!answer) return fail(ErrorCode::unavailable, "the client did not answer {} in time", method);
  if (answer->contains("error"))
    return fail(ErrorCode::unavailable, "the client refused {}: {}", method,
                answer->at("error").value("message", std::string("no reason given")));
  return answer->value("result", Json::object());
}

ToolOutput ToolOutput::of(Json structured) {
  ToolOutput output;
  output.content = Json::array({{{"type", "text"}, {"text", structured.dump(2)}}});
  output.structured = std::move(structured);
  return output;
}

ToolOutput ToolOutput::error(const std::string& text) {
  ToolOutput output;
  output.content = Json::array({{{"type", "text"}, {"text", text}}});
  output.is_error = true;
  return output;
}

Json Tool::describe(bool with_output_schema) const {
  Json entry = {{"name", name},
                {"title", title},
                {"description", description},
                {"inputSchema", input_schema},
                {"annotations",
                 {{"title", title},
                  {"readOnlyHint", read_only},
                  {"destructiveHint", destructive},
                  {"idempotentHint", idempotent},
                  {"openWorldHint", open_world}}}};
  if (with_output_schema && !output_schema.is_null()) entry["outputSchema"] = output_schema;
  return entry;
}

}  // namespace opdbus::mcp
