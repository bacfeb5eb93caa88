// The MCP configuration file; see config.h.
#include "mcp/config.h"

#include <openssl/crypto.h>

#include "base/fs.h"
#include "ledger/digest.h"

namespace opdbus::mcp {
namespace {

Status only_keys(const Json& object, std::initializer_list<const char*> allowed,
                 const std::string& where) {
  if (!object.is_object()) return fail(ErrorCode::invalid_input, "{} must be an object", where);
  for (const auto& item : object.items()) {
    const auto& key = item.key();
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* name) { return key == name; }))
      return fail(ErrorCode::invalid_input, "{}: unknown key '{}'", where, key);
  }
  return ok();
}

Result<std::vector<std::string>> strings(const Json& list, const std::string& where) {
  if (!list.is_array()) return fail(ErrorCode::invalid_input, "{} must be a list", where);
  std::vector<std::string> out;
  for (const auto& item : list) {
    if (!item.is_string()) return fail(ErrorCode::invalid_input, "{} holds a non-string", where);
    out.push_back(item.get<std::string>());
  }
  return out;
}

Result<TokenEntry> parse_token(const std::string& name, const Json& entry) {
  auto where = "tokens." + name;
  TRY(only_keys(entry, {"token_sha256", "access", "tools"}, where));
  auto hash = entry.value("token_sha256", "");
  if (!ledger::digest_from_hex(hash))
    return fail(ErrorCode::invalid_input, "{}.token_sha256 must be 64 hex digits", where);
  auto access = entry.value("access", "read");
  if (access != "read" && access != "write")
    return fail(ErrorCode::invalid_input, "{}.access must be \"read\" or \"write\"", where);
  TokenEntry token{name, hash, Principal{name, access == "write", {}}};
  if (entry.contains("tools"))
    token.principal.patterns = TRY(strings(entry["tools"], where + ".tools"));
  return token;
}

}  // namespace

std::optional<Principal> McpConfig::principal_for(std::string_view token) const {
  auto presented = ledger::sha256(token);
  std::optional<Principal> found;
  for (const auto& entry : tokens) {
    auto expected = ledger::digest_from_hex(entry.sha256_hex);
    if (expected && CRYPTO_memcmp(expected->data(), presented.data(), presented.size()) == 0)
      found = entry.principal;
  }
  return found;
}

Result<McpConfig> parse_mcp_config(const Json& json) {
  TRY(only_keys(json, {"tokens", "allowed_origins", "dbus_methods"}, "the MCP config"));
  McpConfig config;
  auto tokens = json.value("tokens", Json::object());
  if (!tokens.is_object()) return fail(ErrorCode::invalid_input, "tokens must be an object");
  for (const auto& [name, entry] : tokens.items())
    config.tokens.push_back(TRY(parse_token(name, entry)));
  if (json.contains("allowed_origins"))
    config.allowed_origins = TRY(strings(json["allowed_origins"], "allowed_origins"));
  auto dbus_methods = json.value("dbus_methods", Json::array());
  for (const auto& entry : dbus_methods) {
    TRY(only_keys(entry, {"service", "interface"}, "dbus_methods entry"));
    if (!entry.contains("service") || !entry["service"].is_string())
      return fail(ErrorCode::invalid_input, "a dbus_methods entry needs a service name");
    config.host.dbus_methods.push_back(
        {entry["service"].get<std::string>(), entry.value("interface", "")});
  }
  return config;
}

Result<McpConfig> load_mcp_config(const std::filesystem::path& file) {
  auto text = TRY(read_file(file));
  auto json = Json::parse(text, nullptr, false);
  if (json.is_discarded())
    return fail(ErrorCode::invalid_input, "{}: not valid JSON", file.string());
  return with_context(parse_mcp_config(json), file.string());
}

}  // namespace opdbus::mcp
