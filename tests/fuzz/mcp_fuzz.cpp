// libFuzzer target: arbitrary bytes as one MCP message to the server core (JSON-RPC envelope,
// dispatch, argument validation against tool schemas, prompts, resources, completion). It must
// answer every request with a result or a JSON-RPC error and never throw or crash.
#include <cstdint>
#include <string_view>

#include "mcp/server.h"

namespace {

using namespace opdbus;
using namespace opdbus::mcp;

Catalogue fuzz_catalogue() {
  Catalogue catalogue;
  catalogue.tools.push_back(
      {.name = "echo",
       .title = "",
       .description = "returns its arguments",
       .input_schema = {{"type", "object"},
                        {"properties",
                         {{"text", {{"type", "string"}, {"maxLength", 64}}},
                          {"items", {{"type", "array"}, {"items", {{"type", "integer"}}}}}}},
                        {"required", {"text"}},
                        {"additionalProperties", false}},
       .output_schema = Json(),
       .run = [](Call& call) -> Result<ToolOutput> {
         call.progress(1, 2, "half");
         call.log("info", call.arguments);
         return ToolOutput::of(call.arguments);
       }});
  catalogue.resources.push_back({.uri = "test://one",
                                 .name = "one",
                                 .title = "",
                                 .description = "",
                                 .mime_type = "text/plain",
                                 .read = [](const std::string& uri) -> Result<Json> {
                                   return Json::array({{{"uri", uri}, {"text", "1"}}});
                                 }});
  catalogue.prompts.push_back(
      {.name = "p",
       .title = "",
       .description = "a prompt",
       .arguments = Json::array({{{"name", "x"}, {"required", true}}}),
       .get = [](const Json& arguments) -> Result<Json> {
         return Json{
             {"messages", Json::array({{{"role", "user"}, {"content", arguments.dump()}}})}};
       },
       .complete =
           [](const std::string&, const std::string&) {
             return std::vector<std::string>{"a", "b"};
           }});
  return catalogue;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Server server(fuzz_catalogue(), {.compact = size % 2 == 0});
  static auto session = server.open_session({});
  Outlet outlet{[](const Json&) {}, {}};
  auto response = server.handle_text(
      *session, std::string_view(reinterpret_cast<const char*>(data), size), outlet);
  if (response && !response->contains("result") && !response->contains("error")) __builtin_trap();
  return 0;
}
