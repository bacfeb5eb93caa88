// opdbus-mcp-fixtures: op-dbus's MCP server core and Streamable HTTP transport serving the
// fixture tools, resources and prompts the official MCP conformance suite calls (test_simple_text,
// test://static-text, test_simple_prompt, ...). Test-only: these fixtures exist in no op-dbus
// binary. Usage: opdbus-mcp-fixtures [PORT]; prints the URL, serves until SIGTERM/SIGINT.
#include <signal.h>

#include <cstdio>
#include <thread>

#include "base/signal_pipe.h"
#include "mcp/http.h"

using namespace opdbus;
using namespace opdbus::mcp;

namespace {

// A 1x1 red PNG and a minimal WAV (standard base64).
constexpr const char* kPng =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg"
    "==";
constexpr const char* kWav = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

Json text(const std::string& value) {
  return {{"type", "text"}, {"text", value}};
}

Json image() {
  return {{"type", "image"}, {"data", kPng}, {"mimeType", "image/png"}};
}

Json empty_object_schema() {
  return {{"type", "object"}, {"properties", Json::object()}};
}

ToolOutput content(Json items) {
  ToolOutput output;
  output.content = std::move(items);
  return output;
}

Tool fixture(std::string name, std::string description,
             std::function<Result<ToolOutput>(Call&)> run, Json schema = empty_object_schema()) {
  return {.name = std::move(name),
          .title = "",
          .description = std::move(description),
          .input_schema = std::move(schema),
          .output_schema = Json(),
          .read_only = true,
          .destructive = false,
          .idempotent = true,
          .open_world = false,
          .run = std::move(run)};
}

Result<ToolOutput> elicit(Call& call, Json params) {
  auto answer = TRY(call.ask("elicitation/create", std::move(params)));
  return content(
      Json::array({text("Elicitation completed: action=" + answer.value("action", "") +
                        ", content=" + answer.value("content", Json::object()).dump())}));
}

void add_content_tools(Catalogue& catalogue) {
  catalogue.tools.push_back(fixture("test_simple_text", "Returns simple text content", [](Call&) {
    return Result<ToolOutput>(
        content(Json::array({text("This is a simple text response for testing.")})));
  }));
  catalogue.tools.push_back(fixture("test_image_content", "Returns image content", [](Call&) {
    return Result<ToolOutput>(content(Json::array({image()})));
  }));
  catalogue.tools.push_back(fixture("test_audio_content", "Returns audio content", [](Call&) {
    return Result<ToolOutput>(
        content(Json::array({{{"type", "audio"}, {"data", kWav}, {"mimeType", "audio/wav"}}})));
  }));
  catalogue.tools.push_back(
      fixture("test_embedded_resource", "Returns an embedded resource", [](Call&) {
        return Result<ToolOutput>(
            content(Json::array({{{"type", "resource"},
                                  {"resource",
                                   {{"uri", "test://embedded-resource"},
                                    {"mimeType", "text/plain"},
                                    {"text", "This is an embedded resource content."}}}}})));
      }));
  catalogue.tools.push_back(
      fixture("test_multiple_content_types", "Returns text, image and resource content", [](Call&) {
        return Result<ToolOutput>(
            content(Json::array({text("Multiple content types test:"),
                                 image(),
                                 {{"type", "resource"},
                                  {"resource",
                                   {{"uri", "test://mixed-content-resource"},
                                    {"mimeType", "application/json"},
                                    {"text", R"({"test":"data","value":123})"}}}}})));
      }));
  catalogue.tools.push_back(fixture("test_error_handling", "Always fails", [](Call&) {
    return Result<ToolOutput>(
        ToolOutput::error("This tool intentionally returns an error for testing"));
  }));
}

void add_interactive_tools(Catalogue& catalogue) {
  catalogue.tools.push_back(
      fixture("test_tool_with_logging", "Sends log messages while it runs", [](Call& call) {
        for (const char* message :
             {"Tool execution started", "Tool processing data", "Tool execution completed"}) {
          call.log("info", message, "fixtures");
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return Result<ToolOutput>(content(Json::array({text("Tool with logging executed")})));
      }));
  catalogue.tools.push_back(
      fixture("test_tool_with_progress", "Reports progress while it runs", [](Call& call) {
        for (double done : {0.0, 50.0, 100.0}) {
          call.progress(done, 100.0);
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return Result<ToolOutput>(content(Json::array({text("Progress reported")})));
      }));
  catalogue.tools.push_back(fixture(
      "test_sampling", "Asks the client's model",
      [](Call& call) -> Result<ToolOutput> {
        auto answer = TRY(call.ask(
            "sampling/createMessage",
            {{"messages", Json::array({{{"role", "user"},
                                        {"content", text(call.arguments.value("prompt", ""))}}})},
             {"maxTokens", 100}}));
        return content(Json::array(
            {text("LLM response: " + answer.value("content", Json::object()).value("text", ""))}));
      },
      {{"type", "object"},
       {"properties", {{"prompt", {{"type", "string"}}}}},
       {"required", {"prompt"}}}));
  catalogue.tools.push_back(fixture(
      "test_elicitation", "Asks the user for information",
      [](Call& call) {
        return elicit(
            call, {{"message", call.arguments.value("message", "")},
                   {"requestedSchema",
                    {{"type", "object"},
                     {"properties",
                      {{"username", {{"type", "string"}, {"description", "User's response"}}},
                       {"email", {{"type", "string"}, {"description", "User's email address"}}}}},
                     {"required", {"username", "email"}}}}});
      },
      {{"type", "object"},
       {"properties", {{"message", {{"type", "string"}}}}},
       {"required", {"message"}}}));
  catalogue.tools.push_back(fixture(
      "test_elicitation_sep1034_defaults", "Elicitation with default values", [](Call& call) {
        return elicit(
            call,
            {{"mode", "form"},
             {"message", "Please review and update the form fields with defaults"},
             {"requestedSchema",
              {{"type", "object"},
               {"properties",
                {{"name",
                  {{"type", "string"}, {"description", "User name"}, {"default", "John Doe"}}},
                 {"age", {{"type", "integer"}, {"description", "User age"}, {"default", 30}}},
                 {"score", {{"type", "number"}, {"description", "User score"}, {"default", 95.5}}},
                 {"status",
                  {{"type", "string"},
                   {"description", "User status"},
                   {"enum", {"active", "inactive", "pending"}},
                   {"default", "active"}}},
                 {"verified",
                  {{"type", "boolean"},
                   {"description", "Verification status"},
                   {"default", true}}}}},
               {"required", Json::array()}}}});
      }));
  auto titled = [](const char* first, const char* second, const char* third, const char* noun) {
    return Json::array({{{"const", "value1"}, {"title", std::string(first) + " " + noun}},
                        {{"const", "value2"}, {"title", std::string(second) + " " + noun}},
                        {{"const", "value3"}, {"title", std::string(third) + " " + noun}}});
  };
  catalogue.tools.push_back(fixture(
      "test_elicitation_sep1330_enums", "Elicitation with every enum form", [titled](Call& call) {
        Json options = {"option1", "option2", "option3"};
        return elicit(
            call,
            {{"mode", "form"},
             {"message", "Please select options from the enum fields"},
             {"requestedSchema",
              {{"type", "object"},
               {"properties",
                {{"untitledSingle", {{"type", "string"}, {"enum", options}}},
                 {"titledSingle",
                  {{"type", "string"}, {"oneOf", titled("First", "Second", "Third", "Option")}}},
                 {"legacyEnum",
                  {{"type", "string"},
                   {"enum", {"opt1", "opt2", "opt3"}},
                   {"enumNames", {"Option One", "Option Two", "Option Three"}}}},
                 {"untitledMulti",
                  {{"type", "array"},
                   {"minItems", 1},
                   {"maxItems", 3},
                   {"items", {{"type", "string"}, {"enum", options}}}}},
                 {"titledMulti",
                  {{"type", "array"},
                   {"minItems", 1},
                   {"maxItems", 3},
                   {"items", {{"anyOf", titled("First", "Second", "Third", "Choice")}}}}}}},
               {"required", Json::array()}}}});
      }));
  catalogue.tools.push_back(fixture(
      "test_reconnection", "Ends its SSE stream before answering (SSE polling)", [](Call& call) {
        call.release_stream();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        return Result<ToolOutput>(
            content(Json::array({text("Reconnection test completed successfully.")})));
      }));
  catalogue.tools.push_back(fixture(
      "json_schema_2020_12_tool", "Tool with JSON Schema 2020-12 features",
      [](Call&) { return Result<ToolOutput>(content(Json::array({text("ok")}))); },
      {{"$schema", "https://json-schema.org/draft/2020-12/schema"},
       {"type", "object"},
       {"$defs",
        {{"address",
          {{"type", "object"},
           {"properties", {{"street", {{"type", "string"}}}, {"city", {{"type", "string"}}}}}}}}},
       {"properties", {{"name", {{"type", "string"}}}, {"address", {{"$ref", "#/$defs/address"}}}}},
       {"additionalProperties", false}}));
}

Resource static_resource(std::string uri, std::string mime_type, Json item) {
  return {.uri = uri,
          .name = uri.substr(uri.rfind('/') + 1),
          .title = "",
          .description = "A fixture resource",
          .mime_type = mime_type,
          .read = [uri, mime_type, item](const std::string&) -> Result<Json> {
            Json entry = {{"uri", uri}, {"mimeType", mime_type}};
            entry.update(item);
            return Json::array({entry});
          }};
}

void add_resources(Catalogue& catalogue) {
  catalogue.resources.push_back(
      static_resource("test://static-text", "text/plain",
                      {{"text", "This is the content of the static text resource."}}));
  catalogue.resources.push_back(
      static_resource("test://static-binary", "image/png", {{"blob", kPng}}));
  catalogue.resources.push_back(
      static_resource("test://watched-resource", "text/plain", {{"text", "Watched"}}));
  catalogue.templates.push_back(
      {.uri_template = "test://template/{id}/data",
       .name = "template",
       .title = "",
       .description = "A fixture resource template",
       .mime_type = "application/json",
       .read = [](const std::string& uri) -> Result<Json> {
         auto id = uri.substr(std::string("test://template/").size());
         id = id.substr(0, id.find('/'));
         Json data = {{"id", id}, {"templateTest", true}, {"data", "Data for ID: " + id}};
         return Json::array(
             {{{"uri", uri}, {"mimeType", "application/json"}, {"text", data.dump()}}});
       },
       .complete = {}});
}

Json user(Json content_block) {
  return {{"role", "user"}, {"content", std::move(content_block)}};
}

void add_prompts(Catalogue& catalogue) {
  catalogue.prompts.push_back(
      {.name = "test_simple_prompt",
       .title = "",
       .description = "A simple prompt",
       .arguments = Json::array(),
       .get = [](const Json&) -> Result<Json> {
         return Json{
             {"messages", Json::array({user(text("This is a simple prompt for testing."))})}};
       },
       .complete = {}});
  catalogue.prompts.push_back(
      {.name = "test_prompt_with_arguments",
       .title = "",
       .description = "A prompt with arguments",
       .arguments = Json::array(
           {{{"name", "arg1"}, {"description", "First test argument"}, {"required", true}},
            {{"name", "arg2"}, {"description", "Second test argument"}, {"required", true}}}),
       .get = [](const Json& arguments) -> Result<Json> {
         return Json{
             {"messages",
              Json::array({user(text("Prompt with arguments: arg1='" + arguments.value("arg1", "") +
                                     "', arg2='" + arguments.value("arg2", "") + "'"))})}};
       },
       .complete =
           [](const std::string&, const std::string&) {
             return std::vector<std::string>{"test1", "test2", "other"};
           }});
  catalogue.prompts.push_back(
      {.name = "test_prompt_with_embedded_resource",
       .title = "",
       .description = "A prompt with an embedded resource",
       .arguments = Json::array({{{"name", "resourceUri"},
                                  {"description", "URI of the resource to embed"},
                                  {"required", true}}}),
       .get = [](const Json& arguments) -> Result<Json> {
         Json resource = {{"uri", arguments.value("resourceUri", "")},
                          {"mimeType", "text/plain"},
                          {"text", "Embedded resource content for testing."}};
         return Json{{"messages",
                      Json::array({user({{"type", "resource"}, {"resource", resource}}),
                                   user(text("Please process the embedded resource above."))})}};
       },
       .complete = {}});
  catalogue.prompts.push_back(
      {.name = "test_prompt_with_image",
       .title = "",
       .description = "A prompt with an image",
       .arguments = Json::array(),
       .get = [](const Json&) -> Result<Json> {
         return Json{{"messages",
                      Json::array({user(image()), user(text("Please analyze the image above."))})}};
       },
       .complete = {}});
}

}  // namespace

int main(int argc, char** argv) {
  Catalogue catalogue;
  catalogue.instructions = "MCP conformance fixtures (test-only).";
  add_content_tools(catalogue);
  add_interactive_tools(catalogue);
  add_resources(catalogue);
  add_prompts(catalogue);
  Server server(std::move(catalogue),
                {.compact = false, .name = "opdbus-mcp-fixtures", .version = "1"});
  auto signals = SignalPipe::install({SIGINT, SIGTERM});
  if (!signals) return 1;
  HttpOptions options;
  options.port = argc > 1 ? std::atoi(argv[1]) : 0;
  auto transport = HttpTransport::start(server, options);
  if (!transport) {
    std::fprintf(stderr, "opdbus-mcp-fixtures: %s\n", transport.error().describe().c_str());
    return 1;
  }
  std::printf("%s\n", (*transport)->url().c_str());
  std::fflush(stdout);
  (*signals)->wait();
  (*transport)->stop();
  return 0;
}
