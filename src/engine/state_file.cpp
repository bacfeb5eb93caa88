// Loading and validating desired-state documents; see state_file.h. yaml-cpp parses both YAML
// and JSON (a YAML 1.2 subset here) to learn where each value is written; nlohmann parses JSON
// strictly. YAML plain scalars follow the YAML 1.2 core schema (no "yes"/"no" booleans).
#include "engine/state_file.h"

#include <regex>
#include <set>

#include <yaml-cpp/yaml.h>

#include "base/fs.h"
#include "engine/schema_check.h"

namespace opdbus {
namespace {

bool looks_like_yaml_path(const std::string& path) {
  auto ends_with = [&](const std::string& suffix) {
    return path.size() >= suffix.size() &&
           path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends_with(".yaml") || ends_with(".yml");
}

SourceLocation location_of_offset(const std::string& text, size_t offset) {
  SourceLocation location{1, 1};
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++location.line;
      location.column = 1;
    } else {
      ++location.column;
    }
  }
  return location;
}

SourceLocation location_of(const YAML::Mark& mark) {
  return {mark.line + 1, mark.column + 1};
}

void collect_locations(const YAML::Node& node, const std::string& pointer,
                       std::map<std::string, SourceLocation>& out) {
  if (node.IsMap()) {
    for (const auto& entry : node) {
      auto child = pointer_append(pointer, entry.first.Scalar());
      out[child] = location_of(entry.first.Mark());
      collect_locations(entry.second, child, out);
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      auto child = pointer_append(pointer, i);
      out[child] = location_of(node[i].Mark());
      collect_locations(node[i], child, out);
    }
  }
}

Json yaml_scalar(const YAML::Node& node) {
  const auto& text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted: always a string
  static const std::regex null_re("^(~|null|Null|NULL|)$");
  static const std::regex true_re("^(true|True|TRUE)$");
  static const std::regex false_re("^(false|False|FALSE)$");
  static const std::regex int_re("^[-+]?[0-9]+$");
  static const std::regex hex_re("^0x[0-9a-fA-F]+$");
  static const std::regex float_re("^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$");
  if (std::regex_match(text, null_re)) return nullptr;
  if (std::regex_match(text, true_re)) return true;
  if (std::regex_match(text, false_re)) return false;
  try {
    if (std::regex_match(text, int_re))
      return text[0] == '-' ? Json(std::stoll(text)) : Json(std::stoull(text));
    if (std::regex_match(text, hex_re)) return Json(std::stoull(text, nullptr, 16));
    if (std::regex_match(text, float_re)) return Json(std::stod(text));
  } catch (const std::exception&) {
    return text;  // out of range: keep the text, the schema will say what was expected
  }
  return text;
}

Json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& entry : node) out[entry.first.Scalar()] = yaml_to_json(entry.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(yaml_to_json(item));
      return out;
    }
    case YAML::NodeType::Scalar:
      return yaml_scalar(node);
    default:
      return nullptr;
  }
}

Result<StateDocument> parse_json(const std::string& path, const std::string& text) {
  StateDocument document;
  document.path = path;
  document.text = text;
  try {
    document.root = Json::parse(text);
  } catch (const Json::parse_error& error) {
    auto location = location_of_offset(text, error.byte > 0 ? error.byte - 1 : 0);
    std::string what = error.what();
    auto detail = what.find("syntax error");
    return fail(ErrorCode::invalid_input, "{}:{}:{}: invalid JSON: {}", path, location.line,
                location.column, detail == std::string::npos ? what : what.substr(detail));
  }
  return document;
}

Result<StateDocument> parse_yaml(const std::string& path, const std::string& text) {
  StateDocument document;
  document.path = path;
  document.text = text;
  try {
    document.root = yaml_to_json(YAML::Load(text));
  } catch (const YAML::Exception& error) {
    return fail(ErrorCode::invalid_input, "{}:{}:{}: invalid YAML: {}", path, error.mark.line + 1,
                error.mark.column + 1, error.msg);
  }
  return document;
}

std::string format_problems(const StateDocument& document, const std::vector<Problem>& problems) {
  std::string message = fmt::format("{}: {} problem{} in the desired state", document.path,
                                    problems.size(), problems.size() == 1 ? "" : "s");
  for (const auto& problem : problems)
    message += fmt::format("\n  {}: {}: {}", document.locate(problem.pointer),
                           problem.pointer.empty() ? "/" : problem.pointer, problem.message);
  return message;
}

void check_top_level(const Json& root, const Registry& registry, std::vector<Problem>& problems) {
  if (!root.is_object()) {
    problems.push_back(
        {"", fmt::format("expected an object with \"version\" and \"plugins\", got {}",
                         json_type_name(root))});
    return;
  }
  for (const auto& [key, value] : root.items())
    if (key != "version" && key != "plugins")
      problems.push_back(
          {pointer_append("", key),
           fmt::format("unknown field '{}' (expected one of: version, plugins)", key)});
  if (!root.contains("version"))
    problems.push_back({"", "missing required field 'version' (use 1)"});
  else if (root["version"] != 1)
    problems.push_back(
        {"/version", fmt::format("unsupported version {} (this op-dbus reads version 1)",
                                 json_brief(root["version"]))});
  if (!root.contains("plugins")) {
    problems.push_back({"", "missing required field 'plugins'"});
  } else if (!root["plugins"].is_object()) {
    problems.push_back(
        {"/plugins", fmt::format("expected object, got {}", json_type_name(root["plugins"]))});
  } else {
    for (const auto& [name, section] : root["plugins"].items()) {
      auto pointer = pointer_append("/plugins", name);
      const auto* plugin = registry.find(name);
      if (!plugin) {
        std::string known;
        for (const auto& n : registry.names()) known += (known.empty() ? "" : ", ") + n;
        problems.push_back(
            {pointer, fmt::format("unknown plugin '{}' (known plugins: {})", name, known)});
        continue;
      }
      auto schema_problems = check_against_schema(plugin->descriptor().schema, section, pointer);
      if (schema_problems.empty()) schema_problems = plugin->validate(section, pointer);
      problems.insert(problems.end(), schema_problems.begin(), schema_problems.end());
    }
  }
}

}  // namespace

std::string StateDocument::locate(const std::string& pointer) const {
  if (!locations_) {
    locations_.emplace();
    try {
      collect_locations(YAML::Load(text), "", *locations_);
    } catch (const YAML::Exception&) {
      locations_->clear();  // JSON that YAML cannot read: report without line numbers
    }
  }
  std::string current = pointer;
  while (!current.empty()) {
    auto it = locations_->find(current);
    if (it != locations_->end())
      return fmt::format("{}:{}:{}", path, it->second.line, it->second.column);
    current = current.substr(0, current.rfind('/'));
  }
  return path;
}

Result<StateDocument> parse_state_text(const std::string& path, const std::string& text) {
  auto first = text.find_first_not_of(" \t\r\n");
  bool json_like = first != std::string::npos && (text[first] == '{' || text[first] == '[');
  if (looks_like_yaml_path(path) || !json_like) return parse_yaml(path, text);
  return parse_json(path, text);
}

Status validate_state_document(const StateDocument& document, const Registry& registry) {
  std::vector<Problem> problems;
  check_top_level(document.root, registry, problems);
  if (problems.empty()) return ok();
  return fail(ErrorCode::invalid_input, format_problems(document, problems));
}

Result<StateDocument> load_state_document(const std::string& path, const Registry& registry) {
  auto text = read_file(path);
  if (!text) return fail(ErrorCode::invalid_input, "{}", text.error().message);
  auto document = TRY(parse_state_text(path, *text));
  TRY(validate_state_document(document, registry));
  return document;
}

namespace {

// Removes the descriptor's read-only fields ("/interfaces/*/index") from a plugin section; "*"
// stands for every array item or every member of an object.
void erase_pointer_pattern(Json& node, const std::vector<std::string>& tokens, size_t at) {
  if (at + 1 == tokens.size()) {
    if (node.is_object()) node.erase(tokens[at]);
    return;
  }
  if (tokens[at] == "*" && (node.is_array() || node.is_object())) {
    for (auto& item : node) erase_pointer_pattern(item, tokens, at + 1);
  } else if (node.is_object() && node.contains(tokens[at])) {
    erase_pointer_pattern(node[tokens[at]], tokens, at + 1);
  }
}

}  // namespace

Json without_read_only(Json document, const Registry& registry) {
  for (auto& [name, section] : document["plugins"].items()) {
    const auto* plugin = registry.find(name);
    if (!plugin) continue;
    for (const auto& pattern : plugin->descriptor().read_only_fields) {
      std::vector<std::string> tokens;
      for (size_t start = 1; start <= pattern.size();) {
        auto end = pattern.find('/', start);
        if (end == std::string::npos) end = pattern.size();
        tokens.push_back(pattern.substr(start, end - start));
        start = end + 1;
      }
      if (!tokens.empty()) erase_pointer_pattern(section, tokens, 0);
    }
  }
  return document;
}

}  // namespace opdbus
