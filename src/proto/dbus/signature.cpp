// D-Bus signature parsing; see signature.h.
#include "proto/dbus/signature.h"

namespace opdbus::dbus {
namespace {

constexpr int kMaxDepth = 32;

struct Parser {
  std::string_view text;
  size_t at = 0;

  Error error(std::string what) const {
    return Error{ErrorCode::invalid_input,
                 fmt::format("signature '{}' at {}: {}", text, at, std::move(what)),
                 {}};
  }

  // Parses one complete type starting at `at`.
  Status complete_type(int arrays, int structs) {
    if (at >= text.size()) return make_failure(error("a type is missing"));
    char code = text[at++];
    if (is_basic_type(code) || code == 'v') return ok();
    if (code == 'a') {
      if (arrays >= kMaxDepth) return make_failure(error("arrays nested too deeply"));
      if (at < text.size() && text[at] == '{') return dict_entry(arrays + 1, structs);
      return complete_type(arrays + 1, structs);
    }
    if (code == '(') {
      if (structs >= kMaxDepth) return make_failure(error("structs nested too deeply"));
      if (at < text.size() && text[at] == ')') return make_failure(error("empty struct"));
      while (at < text.size() && text[at] != ')') TRY(complete_type(arrays, structs + 1));
      if (at >= text.size()) return make_failure(error("unclosed struct"));
      ++at;
      return ok();
    }
    --at;
    return make_failure(error(fmt::format("'{}' is not a type", code)));
  }

  Status dict_entry(int arrays, int structs) {
    ++at;  // '{'
    if (at >= text.size() || !is_basic_type(text[at]))
      return make_failure(error("a dict entry's key must be a basic type"));
    ++at;
    TRY(complete_type(arrays, structs + 1));
    if (at >= text.size() || text[at] != '}')
      return make_failure(error("a dict entry has exactly one key and one value"));
    ++at;
    return ok();
  }
};

}  // namespace

bool is_basic_type(char code) {
  return std::string_view("ybnqiuxtdsogh").find(code) != std::string_view::npos;
}

Result<std::vector<std::string>> split_signature(std::string_view signature) {
  if (signature.size() > 255)
    return fail(ErrorCode::invalid_input, "signature is longer than 255 bytes");
  Parser parser{signature};
  std::vector<std::string> types;
  while (parser.at < signature.size()) {
    size_t start = parser.at;
    TRY(parser.complete_type(0, 0));
    types.emplace_back(signature.substr(start, parser.at - start));
  }
  return types;
}

}  // namespace opdbus::dbus
