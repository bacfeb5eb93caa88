// RFC 8785 canonical JSON; see canonical_json.h.
#include "ledger/canonical_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace opdbus::ledger {
namespace {

constexpr int64_t kMaxExactInteger = int64_t{1} << 53;

// Decodes one UTF-8 sequence at text[i]; returns the code point and advances i, or -1.
int32_t next_code_point(std::string_view text, size_t& i) {
  auto byte = [&](size_t at) { return static_cast<uint8_t>(text[at]); };
  uint8_t lead = byte(i);
  int length = lead < 0x80           ? 1
               : (lead >> 5) == 0x6  ? 2
               : (lead >> 4) == 0xe  ? 3
               : (lead >> 3) == 0x1e ? 4
                                     : 0;
  if (length == 0 || i + length > text.size()) return -1;
  int32_t code = length == 1 ? lead : lead & (0x7f >> length);
  for (int k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return -1;
    code = code << 6 | (byte(i + k) & 0x3f);
  }
  static constexpr int32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < kMinForLength[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
    return -1;
  i += length;
  return code;
}

Result<std::u16string> utf16_units(std::string_view text) {
  std::u16string out;
  for (size_t i = 0; i < text.size();) {
    int32_t code = next_code_point(text, i);
    if (code < 0) return fail(ErrorCode::invalid_input, "string is not valid UTF-8");
    if (code < 0x10000) {
      out.push_back(static_cast<char16_t>(code));
    } else {
      code -= 0x10000;
      out.push_back(static_cast<char16_t>(0xd800 + (code >> 10)));
      out.push_back(static_cast<char16_t>(0xdc00 + (code & 0x3ff)));
    }
  }
  return out;
}

Status append_string(std::string& out, std::string_view text) {
  out.push_back('"');
  for (size_t i = 0; i < text.size();) {
    size_t start = i;
    int32_t code = next_code_point(text, i);
    if (code < 0) return fail(ErrorCode::invalid_input, "string is not valid UTF-8");
    switch (code) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (code < 0x20)
          out += fmt::format("\\u{:04x}", code);
        else
          out.append(text.substr(start, i - start));
    }
  }
  out.push_back('"');
  return ok();
}

Status append_value(std::string& out, const Json& value);

Status append_member(std::string& out, bool first, const std::string& name, const Json& value) {
  if (!first) out.push_back(',');
  TRY(append_string(out, name));
  out.push_back(':');
  return with_context(append_value(out, value), name);
}

bool is_ascii(const std::string& text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// nlohmann keeps members in UTF-8 byte order, which is UTF-16 order when every name is ASCII;
// only objects with other names are re-sorted by their UTF-16 code units.
Status append_object(std::string& out, const Json& object) {
  const auto& members = object.get_ref<const Json::object_t&>();
  bool ascii =
      std::all_of(members.begin(), members.end(), [](const auto& m) { return is_ascii(m.first); });
  out.push_back('{');
  if (ascii) {
    bool first = true;
    for (const auto& [name, member] : members) {
      TRY(append_member(out, first, name, member));
      first = false;
    }
  } else {
    std::vector<std::pair<std::u16string, const std::string*>> sorted;
    sorted.reserve(members.size());
    for (const auto& member : members)
      sorted.emplace_back(TRY(utf16_units(member.first)), &member.first);
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i)
      TRY(append_member(out, i == 0, *sorted[i].second, members.at(*sorted[i].second)));
  }
  out.push_back('}');
  return ok();
}

Status append_value(std::string& out, const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      out += "null";
      return ok();
    case Json::value_t::boolean:
      out += value.get<bool>() ? "true" : "false";
      return ok();
    case Json::value_t::string:
      return append_string(out, value.get_ref<const std::string&>());
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: {
      bool in_range = value.is_number_unsigned()
                          ? value.get<uint64_t>() <= uint64_t(kMaxExactInteger)
                          : value.get<int64_t>() >= -kMaxExactInteger &&
                                value.get<int64_t>() <= kMaxExactInteger;
      if (!in_range)
        return fail(ErrorCode::invalid_input, "integer {} is outside +-2^53", value.dump());
      out += value.dump();
      return ok();
    }
    case Json::value_t::number_float: {
      double number = value.get<double>();
      if (!std::isfinite(number))
        return fail(ErrorCode::invalid_input, "NaN and infinity have no JSON form");
      out += ecmascript_number(number);
      return ok();
    }
    case Json::value_t::array: {
      out.push_back('[');
      for (size_t i = 0; i < value.size(); ++i) {
        if (i) out.push_back(',');
        TRY(with_context(append_value(out, value[i]), std::to_string(i)));
      }
      out.push_back(']');
      return ok();
    }
    case Json::value_t::object:
      return append_object(out, value);
    default:
      return fail(ErrorCode::invalid_input, "binary values have no JSON form");
  }
}

}  // namespace

std::string ecmascript_number(double value) {
  if (value == 0) return "0";
  char buffer[64];
  auto [end, error] =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  (void)error;
  std::string_view text(buffer, end);
  std::string sign = text[0] == '-' ? "-" : "";
  if (!sign.empty()) text.remove_prefix(1);
  auto e = text.find('e');
  std::string digits(text.substr(0, e));
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  int exponent = 0;
  std::from_chars(text.data() + e + 1 + (text[e + 1] == '+'), text.data() + text.size(), exponent);
  int k = static_cast<int>(digits.size()), n = exponent + 1;
  if (k <= n && n <= 21) return sign + digits + std::string(n - k, '0');
  if (0 < n && n <= 21) return sign + digits.substr(0, n) + "." + digits.substr(n);
  if (-6 < n && n <= 0) return sign + "0." + std::string(-n, '0') + digits;
  std::string mantissa = k == 1 ? digits : digits.substr(0, 1) + "." + digits.substr(1);
  return sign + mantissa + "e" + (n - 1 >= 0 ? "+" : "-") + std::to_string(std::abs(n - 1));
}

Result<std::string> canonical_json(const Json& value) {
  std::string out;
  TRY(append_value(out, value));
  return out;
}

}  // namespace opdbus::ledger
