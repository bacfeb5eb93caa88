// JSON <-> D-Bus marshalling; see marshal.h.
#include "proto/dbus/marshal.h"

#include <systemd/sd-bus.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "base/fs.h"
#include "proto/dbus/signature.h"

namespace opdbus::dbus {
namespace {

Error wrong(const std::string& pointer, std::string expected, const Json& got) {
  return Error{ErrorCode::invalid_input,
               fmt::format("{}: expected {}, got {}", pointer.empty() ? "/" : pointer,
                           std::move(expected), json_brief(got)),
               {}};
}

Status check(int rc, std::string_view what) {
  if (rc < 0) return fail(ErrorCode::internal, "sd-bus {}: {}", what, errno_text(-rc));
  return ok();
}

// A decimal string as a JSON integer (64-bit values beyond +-2^53 travel as strings), or `value`.
Json integer_from_text(const Json& value) {
  if (!value.is_string()) return value;
  const auto& text = value.get_ref<const std::string&>();
  const char* end = text.data() + text.size();
  if (!text.empty() && text[0] == '-') {
    int64_t n = 0;
    auto [at, error] = std::from_chars(text.data(), end, n);
    return error == std::errc() && at == end ? Json(n) : value;
  }
  uint64_t n = 0;
  auto [at, error] = std::from_chars(text.data(), end, n);
  return error == std::errc() && at == end ? Json(n) : value;
}

template <typename T>
Status append_integer(sd_bus_message* message, char code, const Json& given,
                      const std::string& pointer) {
  const Json value = integer_from_text(given);
  bool fits = false;
  T number{};
  if (value.is_number_unsigned()) {
    auto n = value.get<uint64_t>();
    fits = n <= static_cast<uint64_t>(std::numeric_limits<T>::max());
    number = static_cast<T>(n);
  } else if (value.is_number_integer()) {
    auto n = value.get<int64_t>();
    fits =
        n >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
        (n < 0 || static_cast<uint64_t>(n) <= static_cast<uint64_t>(std::numeric_limits<T>::max()));
    number = static_cast<T>(n);
  }
  if (!fits)
    return make_failure(
        wrong(pointer,
              fmt::format("an integer in {}..{} (D-Bus '{}')", std::numeric_limits<T>::min(),
                          std::numeric_limits<T>::max(), code),
              value));
  return check(sd_bus_message_append_basic(message, code, &number), "append");
}

Status append_string(sd_bus_message* message, char code, const Json& value,
                     const std::string& pointer) {
  static constexpr const char* kNames[] = {"a string", "an object path", "a type signature"};
  int kind = code == 's' ? 0 : code == 'o' ? 1 : 2;
  if (!value.is_string()) return make_failure(wrong(pointer, kNames[kind], value));
  const auto& text = value.get_ref<const std::string&>();
  bool valid = kind == 0 || (kind == 1 ? sd_bus_object_path_is_valid(text.c_str()) > 0
                                       : split_signature(text).has_value());
  if (!valid) return make_failure(wrong(pointer, kNames[kind], value));
  return check(sd_bus_message_append_basic(message, code, text.c_str()), "append");
}

Status append_basic(sd_bus_message* message, char code, const Json& value,
                    const std::string& pointer) {
  switch (code) {
    case 'y':
      return append_integer<uint8_t>(message, code, value, pointer);
    case 'n':
      return append_integer<int16_t>(message, code, value, pointer);
    case 'q':
      return append_integer<uint16_t>(message, code, value, pointer);
    case 'i':
      return append_integer<int32_t>(message, code, value, pointer);
    case 'u':
      return append_integer<uint32_t>(message, code, value, pointer);
    case 'x':
      return append_integer<int64_t>(message, code, value, pointer);
    case 't':
      return append_integer<uint64_t>(message, code, value, pointer);
    case 'd': {
      if (!value.is_number()) return make_failure(wrong(pointer, "a number", value));
      double number = value.get<double>();
      return check(sd_bus_message_append_basic(message, code, &number), "append");
    }
    case 'b': {
      if (!value.is_boolean()) return make_failure(wrong(pointer, "true or false", value));
      int flag = value.get<bool>();
      return check(sd_bus_message_append_basic(message, code, &flag), "append");
    }
    case 'h':
      return fail(ErrorCode::invalid_input, "{}: unix file descriptors cannot be passed",
                  pointer.empty() ? "/" : pointer);
    default:
      return append_string(message, code, value, pointer);
  }
}

// A dict key arrives as JSON object member name; it becomes the key type's value.
Result<Json> key_from_name(char code, const std::string& name, const std::string& pointer) {
  if (code == 's' || code == 'o' || code == 'g') return Json(name);
  if (code == 'b' && (name == "true" || name == "false")) return Json(name == "true");
  if (code == 'd') {
    double number = 0;
    auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), number);
    if (error == std::errc() && end == name.data() + name.size()) return Json(number);
  } else if (code != 'b' && code != 'h') {
    int64_t number = 0;
    auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), number);
    if (error == std::errc() && end == name.data() + name.size()) return Json(number);
  }
  return make_failure(wrong(pointer, fmt::format("a key of D-Bus type '{}'", code), Json(name)));
}

Status append_dict(sd_bus_message* message, std::string_view element, const Json& value,
                   const std::string& pointer) {
  if (!value.is_object()) return make_failure(wrong(pointer, "an object (D-Bus dict)", value));
  std::string entry(element.substr(1, element.size() - 2));
  TRY(check(sd_bus_message_open_container(message, 'a', std::string(element).c_str()), "open"));
  for (const auto& [name, member] : value.items()) {
    auto at = pointer_append(pointer, name);
    TRY(check(sd_bus_message_open_container(message, 'e', entry.c_str()), "open"));
    TRY(append_basic(message, entry[0], TRY(key_from_name(entry[0], name, at)), at));
    TRY(append_json(message, std::string_view(entry).substr(1), member, at));
    TRY(check(sd_bus_message_close_container(message), "close"));
  }
  return check(sd_bus_message_close_container(message), "close");
}

Status append_array(sd_bus_message* message, std::string_view element, const Json& value,
                    const std::string& pointer) {
  if (element[0] == '{') return append_dict(message, element, value, pointer);
  if (!value.is_array()) return make_failure(wrong(pointer, "an array", value));
  TRY(check(sd_bus_message_open_container(message, 'a', std::string(element).c_str()), "open"));
  for (size_t i = 0; i < value.size(); ++i)
    TRY(append_json(message, element, value[i], pointer_append(pointer, std::to_string(i))));
  return check(sd_bus_message_close_container(message), "close");
}

Status append_struct(sd_bus_message* message, std::string_view type, const Json& value,
                     const std::string& pointer) {
  auto inner = type.substr(1, type.size() - 2);
  auto members = TRY(split_signature(inner));
  if (!value.is_array() || value.size() != members.size())
    return make_failure(wrong(
        pointer, fmt::format("an array of {} members (D-Bus struct {})", members.size(), type),
        value));
  TRY(check(sd_bus_message_open_container(message, 'r', std::string(inner).c_str()), "open"));
  for (size_t i = 0; i < members.size(); ++i)
    TRY(append_json(message, members[i], value[i], pointer_append(pointer, std::to_string(i))));
  return check(sd_bus_message_close_container(message), "close");
}

Status append_variant(sd_bus_message* message, const Json& value, const std::string& pointer) {
  bool explicit_type = value.is_object() && value.size() == 2 && value.contains("signature") &&
                       value["signature"].is_string() && value.contains("value");
  std::string signature =
      explicit_type ? value["signature"].get<std::string>() : TRY(infer_signature(value, pointer));
  auto types = split_signature(signature);
  if (!types || types->size() != 1)
    return make_failure(
        wrong(pointer_append(pointer, "signature"), "one complete D-Bus type", Json(signature)));
  const auto& inner = explicit_type ? value["value"] : value;
  auto inner_pointer = explicit_type ? pointer_append(pointer, "value") : pointer;
  TRY(check(sd_bus_message_open_container(message, 'v', signature.c_str()), "open"));
  TRY(append_json(message, signature, inner, inner_pointer));
  return check(sd_bus_message_close_container(message), "close");
}

template <typename T>
Result<Json> read_number(sd_bus_message* message, char code) {
  T number{};
  TRY(check(sd_bus_message_read_basic(message, code, &number), "read"));
  if constexpr (std::is_integral_v<T> && sizeof(T) == 8) {
    constexpr T kExact = T{1} << 53;
    if (number > kExact || (std::is_signed_v<T> && number < T{0} - kExact))
      return Json(std::to_string(number));
  }
  return Json(number);
}

Result<Json> read_basic(sd_bus_message* message, char code) {
  switch (code) {
    case 'y':
      return read_number<uint8_t>(message, code);
    case 'n':
      return read_number<int16_t>(message, code);
    case 'q':
      return read_number<uint16_t>(message, code);
    case 'i':
      return read_number<int32_t>(message, code);
    case 'u':
      return read_number<uint32_t>(message, code);
    case 'x':
      return read_number<int64_t>(message, code);
    case 't':
      return read_number<uint64_t>(message, code);
    case 'd':
      return read_number<double>(message, code);
    case 'b': {
      int flag = 0;
      TRY(check(sd_bus_message_read_basic(message, code, &flag), "read"));
      return Json(flag != 0);
    }
    case 'h':
      return fail(ErrorCode::unavailable, "unix file descriptors are not supported");
    default: {
      const char* text = nullptr;
      TRY(check(sd_bus_message_read_basic(message, code, &text), "read"));
      return Json(text ? text : "");
    }
  }
}

std::string key_name(const Json& key) {
  return key.is_string() ? key.get<std::string>() : key.dump();
}

Result<Json> read_dict(sd_bus_message* message, std::string_view contents, Variants variants) {
  std::string entry(contents.substr(1, contents.size() - 2));
  Json out = Json::object();
  for (;;) {
    int rc = sd_bus_message_enter_container(message, 'e', entry.c_str());
    TRY(check(rc, "enter"));
    if (rc == 0) return out;
    auto key = TRY(read_json(message, variants));
    out[key_name(key)] = TRY(read_json(message, variants));
    TRY(check(sd_bus_message_exit_container(message), "exit"));
  }
}

Result<Json> read_container(sd_bus_message* message, char type, const char* contents,
                            Variants variants) {
  TRY(check(sd_bus_message_enter_container(message, type, contents), "enter"));
  Json out;
  if (type == 'v' && variants == Variants::typed)
    out = {{"signature", contents}, {"value", TRY(read_json(message, variants))}};
  else if (type == 'v')
    out = TRY(read_json(message, variants));
  else if (type == 'a' && contents[0] == '{')
    out = TRY(read_dict(message, contents, variants));
  else
    out = TRY(read_arguments(message, variants));
  TRY(check(sd_bus_message_exit_container(message), "exit"));
  return out;
}

}  // namespace

Result<std::string> infer_signature(const Json& value, const std::string& pointer) {
  switch (value.type()) {
    case Json::value_t::boolean:
      return std::string("b");
    case Json::value_t::number_integer:
      return std::string("x");
    case Json::value_t::number_unsigned:
      return std::string(value.get<uint64_t>() > uint64_t(INT64_MAX) ? "t" : "x");
    case Json::value_t::number_float:
      return std::string("d");
    case Json::value_t::string:
      return std::string("s");
    case Json::value_t::object:
      return std::string("a{sv}");
    case Json::value_t::array: {
      bool strings = !value.empty() && std::all_of(value.begin(), value.end(),
                                                   [](const Json& v) { return v.is_string(); });
      return std::string(strings ? "as" : "av");
    }
    default:
      return make_failure(
          wrong(pointer, "a value with a D-Bus type (or {\"signature\", \"value\"})", value));
  }
}

Status append_json(sd_bus_message* message, std::string_view type, const Json& value,
                   const std::string& pointer) {
  switch (type[0]) {
    case 'a':
      return append_array(message, type.substr(1), value, pointer);
    case '(':
      return append_struct(message, type, value, pointer);
    case 'v':
      return append_variant(message, value, pointer);
    default:
      return append_basic(message, type[0], value, pointer);
  }
}

Status append_arguments(sd_bus_message* message, std::string_view signature, const Json& values) {
  auto types = TRY(split_signature(signature));
  if (!values.is_array() || values.size() != types.size())
    return make_failure(wrong(
        "", fmt::format("an array of {} arguments for signature '{}'", types.size(), signature),
        values));
  for (size_t i = 0; i < types.size(); ++i)
    TRY(append_json(message, types[i], values[i], pointer_append("", std::to_string(i))));
  return ok();
}

Result<Json> read_json(sd_bus_message* message, Variants variants) {
  char type = 0;
  const char* contents = nullptr;
  int rc = sd_bus_message_peek_type(message, &type, &contents);
  TRY(check(rc, "peek"));
  if (rc == 0) return fail(ErrorCode::invalid_input, "the message has no more values");
  if (type == 'a' || type == 'r' || type == 'v')
    return read_container(message, type, contents, variants);
  return read_basic(message, type);
}

Result<Json> read_arguments(sd_bus_message* message, Variants variants) {
  Json out = Json::array();
  for (;;) {
    int rc = sd_bus_message_at_end(message, 0);
    TRY(check(rc, "at_end"));
    if (rc > 0) return out;
    out.push_back(TRY(read_json(message, variants)));
  }
}

}  // namespace opdbus::dbus
