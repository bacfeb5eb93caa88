// Signed mesh descriptions; see join.h.
#include "mesh/join.h"

#include "ledger/canonical_json.h"
#include "proto/wireguard/key.h"

namespace opdbus::mesh {

Result<Json> describe_host(const MeshConfig& config, const std::string& host,
                           const std::string& public_key) {
  if (config.endpoint.empty())
    return fail(ErrorCode::invalid_input,
                "mesh {} declares no endpoint: other hosts would not know where to reach this one",
                config.name);
  return Json{{"mesh", config.name},
              {"host", host},
              {"public_key", public_key},
              {"endpoint", config.endpoint},
              {"allowed_ips", {config.prefix.to_string()}},
              {"cidr", config.cidr.to_string()}};
}

Result<std::string> sign_description(const Json& description, const ledger::SigningKey& key) {
  auto text = TRY(ledger::canonical_json(description)) + "\n";
  auto note = TRY(key.sign(text));
  return Json{{"note", note}, {"verifier", key.verifier().text()}}.dump(2) + "\n";
}

Result<RemoteHost> read_description(std::string_view document, const MeshConfig& config,
                                    const std::optional<std::string>& pinned_verifier) {
  auto json = Json::parse(document, nullptr, false);
  if (!json.is_object() || !json.contains("note") || !json.contains("verifier") ||
      !json["note"].is_string() || !json["verifier"].is_string())
    return fail(ErrorCode::invalid_input,
                "not a mesh description (needs \"note\" and \"verifier\")");
  auto verifier_text = json["verifier"].get<std::string>();
  if (pinned_verifier && *pinned_verifier != verifier_text)
    return fail(ErrorCode::verify_failed,
                "the description is signed by {}, not by the expected key {}", verifier_text,
                *pinned_verifier);
  auto verifier = TRY(ledger::VerifierKey::parse(verifier_text));
  auto text = TRY(verifier.open(json["note"].get<std::string>()));
  auto description = Json::parse(text, nullptr, false);
  if (!description.is_object())
    return fail(ErrorCode::invalid_input, "the signed description is not a JSON object");
  if (description.value("mesh", "") != config.name)
    return fail(ErrorCode::invalid_input, "the description is of mesh '{}', not '{}'",
                description.value("mesh", ""), config.name);
  RemoteHost host;
  host.host = description.value("host", "");
  host.public_key = description.value("public_key", "");
  host.endpoint = description.value("endpoint", "");
  host.verifier = verifier_text;
  if (!wireguard::Key::from_base64(host.public_key))
    return fail(ErrorCode::invalid_input, "the description's public_key is not a WireGuard key");
  TRY(wireguard::Endpoint::parse(host.endpoint));
  for (const auto& ip : description.value("allowed_ips", Json::array())) {
    auto prefix = TRY(netlink::Prefix::parse(ip.get<std::string>()));
    auto inside = prefix.length >= config.cidr.length &&
                  TRY(netlink::Prefix::parse(prefix.address.to_string() + "/" +
                                             std::to_string(config.cidr.length))) == config.cidr;
    if (!inside)
      return fail(ErrorCode::invalid_input, "the description's {} is outside mesh {}'s {}",
                  prefix.to_string(), config.name, config.cidr.to_string());
    host.allowed_ips.push_back(prefix.to_string());
  }
  return host;
}

}  // namespace opdbus::mesh
