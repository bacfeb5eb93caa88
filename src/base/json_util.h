// JSON vocabulary of op-dbus: the Json alias and small helpers used by every layer.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace opdbus {

using Json = nlohmann::json;

// "object", "array", "string", "integer", "number", "boolean" or "null", as JSON Schema says.
std::string json_type_name(const Json& value);
// Value as a user would write it, shortened to `limit` characters.
std::string json_brief(const Json& value, size_t limit = 60);
// Appends a key or index to a JSON pointer string ("" is the document root).
std::string pointer_append(std::string_view pointer, std::string_view token);
std::string pointer_append(std::string_view pointer, size_t index);
// Keeps only the keys of `value` that are present in `shape` (recursively for objects).
Json project_onto(const Json& value, const Json& shape);

}  // namespace opdbus
