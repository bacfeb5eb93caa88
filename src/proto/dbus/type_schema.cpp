// JSON Schema for D-Bus types; see type_schema.h.
#include "proto/dbus/type_schema.h"

#include <limits>

#include "proto/dbus/signature.h"

namespace opdbus::dbus {
namespace {

template <typename T>
Json integer_schema(const char* description) {
  return {{"type", "integer"},
          {"minimum", std::numeric_limits<T>::min()},
          {"maximum", std::numeric_limits<T>::max()},
          {"description", description}};
}

Json wide_integer_schema(const char* description) {
  return {{"type", {"integer", "string"}},
          {"pattern", "^-?[0-9]+$"},
          {"description", std::string(description) + "; beyond +-2^53 as a decimal string"}};
}

Json basic_schema(char code) {
  switch (code) {
    case 'y':
      return integer_schema<uint8_t>("byte");
    case 'n':
      return integer_schema<int16_t>("int16");
    case 'q':
      return integer_schema<uint16_t>("uint16");
    case 'i':
      return integer_schema<int32_t>("int32");
    case 'u':
      return integer_schema<uint32_t>("uint32");
    case 'x':
      return wide_integer_schema("int64");
    case 't':
      return wide_integer_schema("uint64");
    case 'd':
      return {{"type", "number"}, {"description", "double"}};
    case 'b':
      return {{"type", "boolean"}};
    case 's':
      return {{"type", "string"}};
    case 'o':
      return {{"type", "string"},
              {"pattern", "^/([A-Za-z0-9_]+(/[A-Za-z0-9_]+)*)?$"},
              {"description", "object path"}};
    case 'g':
      return {{"type", "string"}, {"maxLength", 255}, {"description", "type signature"}};
    default:
      return false;  // 'h': unix fds cannot be passed
  }
}

Result<Json> complete_schema(std::string_view type);

Result<Json> container_schema(std::string_view type) {
  if (type[0] == 'v')
    return Json{{"description",
                 "variant: a plain value (type inferred) or {\"signature\": S, \"value\": V}"}};
  if (type[0] == 'a' && type[1] == '{') {
    auto value = TRY(complete_schema(type.substr(3, type.size() - 4)));
    Json schema = {{"type", "object"}, {"additionalProperties", value}};
    if (type[2] != 's' && type[2] != 'o' && type[2] != 'g')
      schema["propertyNames"] = {{"pattern", "^-?[0-9]+(\\.[0-9]+)?$"}};
    return schema;
  }
  if (type[0] == 'a')
    return Json{{"type", "array"}, {"items", TRY(complete_schema(type.substr(1)))}};
  Json members = Json::array();
  for (const auto& member : TRY(split_signature(type.substr(1, type.size() - 2))))
    members.push_back(TRY(complete_schema(member)));
  return Json{{"type", "array"},
              {"items", members},
              {"minItems", members.size()},
              {"maxItems", members.size()},
              {"description", "struct: its members in order"}};
}

Result<Json> complete_schema(std::string_view type) {
  if (type.size() == 1 && type[0] != 'v') return basic_schema(type[0]);
  return container_schema(type);
}

}  // namespace

Result<Json> type_schema(std::string_view type) {
  auto types = TRY(split_signature(type));
  if (types.size() != 1)
    return fail(ErrorCode::invalid_input, "'{}' is not one complete D-Bus type", type);
  auto schema = TRY(complete_schema(type));
  if (schema.is_object()) schema["x-dbus-type"] = std::string(type);
  return schema;
}

Result<Json> arguments_schema(const std::vector<std::pair<std::string, std::string>>& arguments) {
  Json properties = Json::object(), required = Json::array();
  for (size_t i = 0; i < arguments.size(); ++i) {
    auto name = arguments[i].first.empty() ? fmt::format("arg{}", i) : arguments[i].first;
    properties[name] = TRY(type_schema(arguments[i].second));
    required.push_back(name);
  }
  return Json{{"type", "object"},
              {"properties", properties},
              {"required", required},
              {"additionalProperties", false}};
}

}  // namespace opdbus::dbus
