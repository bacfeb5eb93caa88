// Schema validation through valijson, with valijson's generic messages rewritten into
// "expected X, got Y" using the schema node at the failing location; see schema_check.h.
#include "engine/schema_check.h"

#include <algorithm>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace opdbus {
namespace {

std::vector<std::string> context_tokens(const std::vector<std::string>& context) {
  std::vector<std::string> tokens;
  for (const auto& part : context) {
    if (part.size() >= 2 && part.front() == '[' && part.back() == ']') {
      auto token = part.substr(1, part.size() - 2);
      if (token.size() >= 2 && token.front() == '"' && token.back() == '"')
        token = token.substr(1, token.size() - 2);
      tokens.push_back(token);
    }
  }
  return tokens;
}

const Json* resolve_ref(const Json& root, const Json* node) {
  for (int depth = 0; node && node->is_object() && node->contains("$ref") && depth < 8; ++depth) {
    auto ref = (*node)["$ref"].get<std::string>();
    if (ref.rfind("#", 0) != 0) return nullptr;
    auto pointer = Json::json_pointer(ref.substr(1));
    node = root.contains(pointer) ? &root.at(pointer) : nullptr;
  }
  return node;
}

// The schema node that describes the value at `tokens`.
const Json* schema_at(const Json& root, const std::vector<std::string>& tokens) {
  const Json* node = resolve_ref(root, &root);
  for (const auto& token : tokens) {
    if (!node) return nullptr;
    if (node->contains("properties") && (*node)["properties"].contains(token)) {
      node = &(*node)["properties"][token];
    } else if (node->contains("items")) {
      node = &(*node)["items"];
    } else {
      return nullptr;
    }
    node = resolve_ref(root, node);
  }
  return node;
}

std::string join_values(const Json& values) {
  std::string out;
  for (const auto& value : values) {
    if (!out.empty()) out.append(", ");
    out.append(value.is_string() ? value.get<std::string>() : value.dump());
  }
  return out;
}

std::string expected_types(const Json& type) {
  if (type.is_string()) return type.get<std::string>();
  std::string out;
  for (const auto& t : type) {
    if (!out.empty()) out.append(" or ");
    out.append(t.get<std::string>());
  }
  return out;
}

std::string quoted_name(const std::string& description) {
  auto end = description.rfind('\'');
  auto begin =
      end == std::string::npos || end == 0 ? std::string::npos : description.rfind('\'', end - 1);
  if (begin == std::string::npos) return {};
  return description.substr(begin + 1, end - begin - 1);
}

Problem explain(const Json& schema, const Json& document, const std::vector<std::string>& tokens,
                const std::string& description, const std::string& base_pointer) {
  std::string pointer = base_pointer;
  for (const auto& token : tokens) pointer = pointer_append(pointer, token);
  const Json* node = schema_at(schema, tokens);
  Json::json_pointer value_pointer;
  for (const auto& token : tokens) value_pointer /= token;
  const Json value = document.contains(value_pointer) ? document.at(value_pointer) : Json();
  if (description.find("could not be validated using 'properties'") != std::string::npos) {
    auto field = quoted_name(description);
    std::string allowed = node && node->contains("properties") ? join_values([&] {
      Json keys = Json::array();
      for (const auto& [key, unused] : (*node)["properties"].items()) keys.push_back(key);
      return keys;
    }())
                                                               : "";
    return {pointer_append(pointer, field),
            fmt::format("unknown field '{}' (expected one of: {})", field, allowed)};
  }
  if (description.find("'type' constraint") != std::string::npos && node && node->contains("type"))
    return {pointer, fmt::format("expected {}, got {} {}", expected_types((*node)["type"]),
                                 json_type_name(value), json_brief(value))};
  if (description.find("enum values") != std::string::npos && node && node->contains("enum"))
    return {pointer, fmt::format("expected one of: {}; got {}", join_values((*node)["enum"]),
                                 json_brief(value))};
  if (description.find("Missing required property") != std::string::npos)
    return {pointer, fmt::format("missing required field '{}'", quoted_name(description))};
  if (description.find("'pattern' constraint") != std::string::npos && node)
    return {pointer, fmt::format("{} is not valid here{}", json_brief(value),
                                 node->contains("description")
                                     ? " (" + (*node)["description"].get<std::string>() + ")"
                                 : node->contains("pattern")
                                     ? " (must match " + (*node)["pattern"].get<std::string>() + ")"
                                     : "")};
  if (description.find("Expected number") != std::string::npos && node &&
      node->contains("minimum") && node->contains("maximum"))
    return {pointer,
            fmt::format("expected a value from {} to {}, got {}", (*node)["minimum"].dump(),
                        (*node)["maximum"].dump(), json_brief(value))};
  if (description.find("String should") != std::string::npos)
    return {pointer, fmt::format("{}: got {}", description, json_brief(value))};
  return {pointer, description};
}

bool is_cascade(const std::string& description) {
  return description.rfind("Failed to validate item", 0) == 0 ||
         description.rfind("Failed to validate against schema associated with property", 0) == 0 ||
         description.rfind("Failed to validate against additional properties", 0) == 0;
}

}  // namespace

std::vector<Problem> check_against_schema(const Json& schema, const Json& value,
                                          const std::string& base_pointer) {
  valijson::Schema compiled;
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema);
  try {
    parser.populateSchema(schema_adapter, compiled);
  } catch (const std::exception& error) {
    return {{base_pointer, std::string("the schema itself cannot be used: ") + error.what()}};
  }
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(value);
  if (validator.validate(compiled, target, &results)) return {};

  std::vector<Problem> problems;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    if (is_cascade(error.description)) continue;
    auto problem =
        explain(schema, value, context_tokens(error.context), error.description, base_pointer);
    bool duplicate = std::any_of(problems.begin(), problems.end(), [&](const Problem& p) {
      return p.pointer == problem.pointer && p.message == problem.message;
    });
    if (!duplicate) problems.push_back(std::move(problem));
  }
  return problems;
}

}  // namespace opdbus
