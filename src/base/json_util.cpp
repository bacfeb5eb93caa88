// JSON helpers; see json_util.h.
#include "base/json_util.h"

#include <fmt/format.h>

namespace opdbus {

std::string json_type_name(const Json& value) {
  switch (value.type()) {
    case Json::value_t::object:
      return "object";
    case Json::value_t::array:
      return "array";
    case Json::value_t::string:
      return "string";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "integer";
    case Json::value_t::number_float:
      return "number";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::null:
      return "null";
    default:
      return "value";
  }
}

std::string json_brief(const Json& value, size_t limit) {
  std::string text = value.dump();
  if (text.size() > limit) text = text.substr(0, limit - 3) + "...";
  return text;
}

std::string pointer_append(std::string_view pointer, std::string_view token) {
  std::string out(pointer);
  out += '/';
  for (char c : token) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

std::string pointer_append(std::string_view pointer, size_t index) {
  return fmt::format("{}/{}", pointer, index);
}

Json project_onto(const Json& value, const Json& shape) {
  if (!value.is_object() || !shape.is_object()) return value;
  Json out = Json::object();
  for (const auto& [key, sub_shape] : shape.items()) {
    auto it = value.find(key);
    if (it != value.end()) out[key] = project_onto(*it, sub_shape);
  }
  return out;
}

}  // namespace opdbus
