// Compact mode: four meta-tools in front of the full catalogue, for agents whose context window
// cannot hold every schema. list_tools names them, search_tools finds them by words,
// get_tool_schema describes one, execute_tool runs one (with the same checks as tools/call).
#include <algorithm>
#include <cctype>

#include "mcp/server.h"

namespace opdbus::mcp {
namespace {

std::string lowered(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

Json brief(const Tool& tool) {
  return {{"name", tool.name},
          {"title", tool.title},
          {"readOnly", tool.read_only},
          {"destructive", tool.destructive}};
}

// How well the query's words match: a word in the tool's name counts more than one in its
// title or description.
size_t relevance(const Tool& tool, const std::vector<std::string>& words) {
  auto name = lowered(tool.name);
  auto text = lowered(tool.title + " " + tool.description);
  size_t score = 0;
  for (const auto& word : words)
    score += (name.find(word) != std::string::npos ? 3 : 0) +
             (text.find(word) != std::string::npos ? 1 : 0);
  return score;
}

std::vector<std::string> words_of(const std::string& query) {
  std::vector<std::string> words;
  std::string word;
  for (char c : lowered(query) + " ") {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      word += c;
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  return words;
}

}  // namespace

std::vector<Tool> Server::meta_tools() const {
  const auto* tools = &catalogue_.tools;
  std::vector<Tool> meta;
  meta.push_back({.name = "list_tools",
                  .title = "List tools",
                  .description = "Names and one-line titles of every op-dbus tool.",
                  .input_schema = object_schema(Json::object(), Json::array()),
                  .output_schema = object_schema({{"tools", {{"type", "array"}}}}, {"tools"}),
                  .run = [tools](Call&) -> Result<ToolOutput> {
                    Json list = Json::array();
                    for (const auto& tool : *tools) list.push_back(brief(tool));
                    return ToolOutput::of({{"tools", list}});
                  }});
  meta.push_back(
      {.name = "search_tools",
       .title = "Search tools",
       .description = "The tools whose name or description matches the words of a query, best "
                      "first (for example 'retention', 'ledger proof', 'bridge').",
       .input_schema = object_schema({{"query", {{"type", "string"}, {"minLength", 1}}},
                                      {"limit", {{"type", "integer"}, {"minimum", 1}}}},
                                     {"query"}),
       .output_schema = object_schema({{"tools", {{"type", "array"}}}}, {"tools"}),
       .run = [tools](Call& call) -> Result<ToolOutput> {
         auto words = words_of(call.arguments.at("query").get<std::string>());
         std::vector<std::pair<size_t, const Tool*>> ranked;
         for (const auto& tool : *tools)
           if (auto score = relevance(tool, words); score > 0) ranked.emplace_back(score, &tool);
         std::stable_sort(ranked.begin(), ranked.end(),
                          [](const auto& a, const auto& b) { return a.first > b.first; });
         Json list = Json::array();
         auto limit = call.arguments.value("limit", size_t{10});
         for (const auto& [score, tool] : ranked)
           if (list.size() < limit)
             list.push_back({{"name", tool->name}, {"description", tool->description}});
         return ToolOutput::of({{"tools", list}});
       }});
  meta.push_back(
      {.name = "get_tool_schema",
       .title = "Describe a tool",
       .description = "One tool's full description: input and output JSON Schemas and hints.",
       .input_schema = object_schema({{"name", {{"type", "string"}}}}, {"name"}),
       .output_schema = {{"type", "object"}},
       .run = [tools](Call& call) -> Result<ToolOutput> {
         auto name = call.arguments.at("name").get<std::string>();
         for (const auto& tool : *tools)
           if (tool.name == name) return ToolOutput::of(tool.describe(true));
         return ToolOutput::error("no tool named '" + name + "'; search_tools finds them");
       }});
  meta.push_back(
      {.name = "execute_tool",
       .title = "Run a tool",
       .description = "Runs the named tool with its arguments, exactly as if it had been called "
                      "directly (same checks, same confirmation for destructive tools).",
       .input_schema = object_schema(
           {{"name", {{"type", "string"}}}, {"arguments", {{"type", "object"}}}}, {"name"}),
       .output_schema = Json(),
       .read_only = false,
       .destructive = true,
       .idempotent = false,
       .run = [this, tools](Call& call) -> Result<ToolOutput> {
         auto name = call.arguments.at("name").get<std::string>();
         for (const auto& tool : *tools) {
           if (tool.name != name) continue;
           auto inner = call.with_arguments(call.arguments.value("arguments", Json::object()));
           return run_tool(tool, inner);
         }
         return ToolOutput::error("no tool named '" + name + "'; search_tools finds them");
       }});
  return meta;
}

}  // namespace opdbus::mcp
