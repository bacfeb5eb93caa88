// The MCP server core; see server.h.
#include "mcp/server.h"

#include <algorithm>

#include "engine/engine.h"
#include "engine/render.h"
#include "engine/state_file.h"
#include "ledger/verify.h"

namespace opdbus::mcp {
namespace {

constexpr const char* kSupportedProtocols[] = {"2025-11-25", "2025-06-18", "2024-11-05"};

enum JsonRpcError {
  kParse = -32700,
  kInvalidRequest = -32600,
  kNoMethod = -32601,
  kInvalidParams = -32602,
  kInternal = -32603
};

Json error_response(const Json& id, int code, const std::string& message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

int error_code_for(const Error& error) {
  return error.code == ErrorCode::invalid_input ? kInvalidParams
         : error.code == ErrorCode::not_found   ? kNoMethod
                                                : kInternal;
}

Json object_schema(Json properties, Json required) {
  return {{"type", "object"},
          {"properties", std::move(properties)},
          {"required", std::move(required)},
          {"additionalProperties", false}};
}

}  // namespace

Server::Server(Context& context) : context_(context) {
  add_plugin_tools();
  add_ledger_tools();
}

void Server::add_plugin_tools() {
  for (auto* plugin : context_.registry.ordered()) {
    const auto& descriptor = plugin->descriptor();
    const auto name = descriptor.name;
    tools_.push_back({.name = "query_" + name,
                      .title = "Query " + name,
                      .description = "The current state of the host's " + name + " (" +
                                     descriptor.description + "), in the state file's layout.",
                      .input_schema = object_schema(Json::object(), Json::array()),
                      .output_schema = object_schema({{"state", descriptor.schema}}, {"state"}),
                      .run = [this, name](const Json&) -> Result<Json> {
                        Engine engine(context_);
                        auto host = TRY(engine.query(name));
                        return Json{{"state", host.document["plugins"][name]}};
                      }});
  }
  Json plugins = Json::object();
  for (auto* plugin : context_.registry.ordered())
    plugins[plugin->descriptor().name] = plugin->descriptor().schema;
  tools_.push_back(
      {.name = "diff",
       .title = "Plan a desired state",
       .description = "What applying a desired state would change, without changing anything "
                      "(like terraform plan).",
       .input_schema = object_schema(
           {{"state",
             object_schema(
                 {{"version", {{"const", 1}}},
                  {"plugins",
                   {{"type", "object"}, {"properties", plugins}, {"additionalProperties", false}}}},
                 {"version", "plugins"})}},
           {"state"}),
       .output_schema = {{"type", "object"}},
       .run = [this](const Json& arguments) -> Result<Json> {
         auto document = TRY(parse_state_text("mcp:diff", arguments.at("state").dump()));
         TRY(validate_state_document(document, context_.registry));
         Engine engine(context_);
         return render_plan_json(TRY(engine.plan(document, std::nullopt)));
       }});
}

void Server::add_ledger_tools() {
  tools_.push_back(
      {.name = "ledger_log",
       .title = "Recent ledger blocks",
       .description = "The newest blocks of the tamper-evident ledger (applies, drift, "
                      "rollbacks, snapshots, ...), optionally only those touching one plugin.",
       .input_schema = object_schema(
           {{"count", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}, {"default", 20}}},
            {"plugin", {{"type", "string"}}}},
           Json::array()),
       .output_schema = object_schema({{"blocks", {{"type", "array"}}}}, {"blocks"}),
       .run = [this](const Json& arguments) -> Result<Json> {
         auto data = TRY(ledger::load_local_ledger(context_.config.state_dir));
         auto plugin = arguments.value("plugin", "");
         auto blocks = TRY(ledger::newest_blocks(
             data, arguments.value("count", 20), [&plugin](const Json& block) {
               if (plugin.empty()) return true;
               const auto plugins = block.value("plugins", Json::array());
               return std::find(plugins.begin(), plugins.end(), plugin) != plugins.end();
             }));
         return Json{{"blocks", blocks}};
       }});
  tools_.push_back(
      {.name = "ledger_verify",
       .title = "Verify the ledger",
       .description = "Checks every block's hash, the chain, the Merkle root and the signed "
                      "checkpoint of the ledger.",
       .input_schema = object_schema(Json::object(), Json::array()),
       .output_schema = object_schema({{"ok", {{"type", "boolean"}}}}, {"ok"}),
       .run = [this](const Json&) { return ledger::verify_summary(context_.config.state_dir); }});
}

std::optional<Json> Server::handle_text(std::string_view text) {
  auto message = Json::parse(text, nullptr, false);
  if (message.is_discarded()) return error_response(nullptr, kParse, "parse error: not JSON");
  return handle(message);
}

std::optional<Json> Server::handle(const Json& message) {
  if (message.is_array())
    return error_response(nullptr, kInvalidRequest, "batches are not part of MCP");
  if (!message.is_object() || message.value("jsonrpc", "") != "2.0")
    return error_response(message.is_object() ? message.value("id", Json()) : Json(),
                          kInvalidRequest, "not a JSON-RPC 2.0 message");
  if (!message.contains("method")) return std::nullopt;  // a response to us: none expected
  bool request = message.contains("id");
  const auto& id = request ? message["id"] : Json();
  if (request && !id.is_string() && !id.is_number_integer())
    return error_response(nullptr, kInvalidRequest, "id must be a string or an integer");
  if (!message["method"].is_string())
    return error_response(id, kInvalidRequest, "method must be a string");
  auto params = message.value("params", Json::object());
  if (!params.is_object()) return error_response(id, kInvalidParams, "params must be an object");
  auto result = dispatch(message["method"].get<std::string>(), params);
  if (!request) return std::nullopt;  // notifications get no answer, even when they fail
  if (!result) return error_response(id, error_code_for(result.error()), result.error().describe());
  return Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", *result}};
}

Result<Json> Server::dispatch(const std::string& method, const Json& params) {
  if (method == "initialize") return initialize(params);
  if (method == "ping") return Json::object();
  if (method == "tools/list") return list_tools();
  if (method == "tools/call") return call_tool(params);
  if (method.rfind("notifications/", 0) == 0) return Json::object();
  return fail(ErrorCode::not_found, "method '{}' not found", method);
}

Result<Json> Server::initialize(const Json& params) {
  auto asked = params.value("protocolVersion", "");
  protocol_ = kLatestProtocol;
  for (const char* supported : kSupportedProtocols)
    if (asked == supported) protocol_ = asked;
  // Recorded as the actor's interface of every ledger block this session causes.
  context_.interface =
      "mcp:" + params.value("clientInfo", Json::object()).value("name", std::string("unknown"));
  return Json{{"protocolVersion", protocol_},
              {"capabilities", {{"tools", {{"listChanged", false}}}}},
              {"serverInfo", {{"name", "op-dbus"}, {"version", "0.1"}}},
              {"instructions",
               "op-dbus keeps this host in a declared state. query_* tools read the current "
               "state per subsystem; diff plans a desired state without changing anything."}};
}

Json Server::list_tools() const {
  Json list = Json::array();
  for (const auto& tool : tools_) {
    Json entry = {{"name", tool.name},
                  {"title", tool.title},
                  {"description", tool.description},
                  {"inputSchema", tool.input_schema},
                  {"annotations",
                   {{"readOnlyHint", tool.read_only},
                    {"destructiveHint", tool.destructive},
                    {"idempotentHint", tool.idempotent}}}};
    if (protocol_ != "2024-11-05") entry["outputSchema"] = tool.output_schema;
    list.push_back(std::move(entry));
  }
  return {{"tools", list}};
}

Result<Json> Server::call_tool(const Json& params) {
  if (!params.contains("name") || !params["name"].is_string())
    return fail(ErrorCode::invalid_input, "tools/call needs a tool name");
  auto name = params["name"].get<std::string>();
  auto arguments = params.value("arguments", Json::object());
  for (const auto& tool : tools_) {
    if (tool.name != name) continue;
    for (const auto& required : tool.input_schema.value("required", Json::array()))
      if (!arguments.contains(required.get<std::string>()))
        return fail(ErrorCode::invalid_input, "tool {} needs the argument '{}'", name,
                    required.get<std::string>());
    auto result = tool.run(arguments);
    if (!result)
      return Json{{"content", {{{"type", "text"}, {"text", result.error().describe()}}}},
                  {"isError", true}};
    Json out = {{"content", {{{"type", "text"}, {"text", result->dump(2)}}}}, {"isError", false}};
    if (protocol_ != "2024-11-05") out["structuredContent"] = *result;
    return out;
  }
  return fail(ErrorCode::invalid_input, "unknown tool '{}'", name);
}

}  // namespace opdbus::mcp
