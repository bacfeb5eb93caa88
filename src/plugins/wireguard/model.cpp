// The wireguard plugin's pure logic; see model.h.
#include "plugins/wireguard/model.h"

#include <algorithm>
#include <set>

#include "proto/netlink/ip_address.h"

namespace opdbus::wg {
namespace {

using wireguard::Key;

constexpr const char* kPeerReadOnly[] = {"preshared_key_sha256", "latest_handshake", "rx_bytes",
                                         "tx_bytes"};

Json sorted_strings(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  return items;
}

Json peer_json(const wireguard::Peer& peer) {
  std::vector<std::string> ips;
  for (const auto& prefix : peer.allowed_ips) ips.push_back(prefix.to_string());
  Json out = {{"public_key", peer.public_key.base64()},
              {"allowed_ips", sorted_strings(std::move(ips))},
              {"persistent_keepalive", peer.persistent_keepalive},
              {"latest_handshake", peer.last_handshake_seconds},
              {"rx_bytes", peer.rx_bytes},
              {"tx_bytes", peer.tx_bytes}};
  if (peer.endpoint) out["endpoint"] = peer.endpoint->to_string();
  if (peer.preshared_key) out["preshared_key_sha256"] = peer.preshared_key->fingerprint();
  return out;
}

Json interface_json(const InterfaceState& state) {
  const auto& device = state.device;
  Json peers = Json::array();
  for (const auto& peer : device.peers) peers.push_back(peer_json(peer));
  std::sort(peers.begin(), peers.end(),
            [](const Json& a, const Json& b) { return a["public_key"] < b["public_key"]; });
  Json out = {{"implementation", state.implementation},
              {"listen_port", device.listen_port},
              {"fwmark", device.fwmark},
              {"addresses", sorted_strings(state.addresses)},
              {"peers", peers}};
  auto public_key = device.public_key;
  if (!public_key && device.private_key)
    if (auto derived = device.private_key->public_key()) public_key = *derived;
  if (public_key) out["public_key"] = public_key->base64();
  return out;
}

// "10.77.0.1/24" as the kernel reports it back, or nullopt when malformed.
std::optional<std::string> canonical_address(const std::string& text) {
  auto slash = text.find('/');
  if (slash == std::string::npos) return std::nullopt;
  auto address = netlink::IpAddress::parse(text.substr(0, slash));
  auto prefix = netlink::Prefix::parse(text);
  if (!address || !prefix) return std::nullopt;
  return address->to_string() + "/" + std::to_string(prefix->length);
}

// An allowed IP written as WireGuard stores it; nullopt when malformed or host bits are set.
std::optional<std::string> canonical_allowed_ip(const std::string& text) {
  auto prefix = netlink::Prefix::parse(text);
  auto slash = text.find('/');
  auto address = netlink::IpAddress::parse(text.substr(0, slash));
  if (!prefix || !address || !(prefix->address == *address)) return std::nullopt;
  return prefix->to_string();
}

// Canonical, sorted forms of a list validated earlier (malformed items are kept as written).
Json canonical_list(const Json& items,
                    std::optional<std::string> (*canonical)(const std::string&)) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    auto text = item.get<std::string>();
    out.push_back(canonical(text).value_or(text));
  }
  return sorted_strings(std::move(out));
}

std::string canonical_key(const std::string& text) {
  auto key = Key::from_base64(text);
  return key ? key->base64() : text;
}

std::string canonical_endpoint(const std::string& text) {
  auto endpoint = wireguard::Endpoint::parse(text);
  return endpoint ? endpoint->to_string() : text;
}

void check_list(const Json& items, const std::string& pointer, const char* what,
                std::optional<std::string> (*canonical)(const std::string&),
                std::vector<Problem>& problems) {
  std::set<std::string> seen;
  for (size_t i = 0; i < items.size(); ++i) {
    auto text = items[i].get<std::string>();
    auto form = canonical(text);
    if (!form)
      problems.push_back(
          {pointer_append(pointer, i),
           fmt::format("'{}' is not a valid {} (ADDRESS/LENGTH{})", text, what,
                       canonical == canonical_allowed_ip ? ", host bits clear" : "")});
    else if (!seen.insert(*form).second)
      problems.push_back({pointer_append(pointer, i), fmt::format("{} is listed twice", text)});
  }
}

void check_absolute(const Json& item, const char* field, const std::string& pointer,
                    std::vector<Problem>& problems) {
  if (item.contains(field) && item[field].is_string() &&
      !item[field].get<std::string>().starts_with('/'))
    problems.push_back(
        {pointer_append(pointer, field), fmt::format("{} must be an absolute path", field)});
}

void check_peers(const Json& peers, const std::string& pointer, std::vector<Problem>& problems) {
  std::set<std::string> keys;
  for (size_t i = 0; i < peers.size(); ++i) {
    const auto& peer = peers[i];
    auto at = pointer_append(pointer, i);
    auto key = Key::from_base64(peer["public_key"].get<std::string>());
    if (!key)
      problems.push_back({pointer_append(at, "public_key"), "not a base64 WireGuard public key"});
    else if (!keys.insert(key->base64()).second)
      problems.push_back({pointer_append(at, "public_key"), "the same peer is listed twice"});
    if (peer.contains("endpoint"))
      if (auto endpoint = wireguard::Endpoint::parse(peer["endpoint"].get<std::string>());
          !endpoint)
        problems.push_back({pointer_append(at, "endpoint"), endpoint.error().message});
    check_list(peer.value("allowed_ips", Json::array()), pointer_append(at, "allowed_ips"),
               "allowed IP", canonical_allowed_ip, problems);
    check_absolute(peer, "preshared_key_file", at, problems);
  }
}

// The device-level fields of an interface as declared.
constexpr const char* kDeviceFields[] = {"implementation", "private_key_file", "listen_port",
                                         "fwmark", "addresses"};

Json peer_identity(const std::string& interface, const std::string& key) {
  return {{"interface", interface}, {"public_key", key}};
}

struct Planner {
  const KeyFileReader& read_key;
  std::vector<Change> changes;

  void add(const char* kind, std::string id, ChangeOp op, Json before, Json after, bool observe,
           std::string pointer) {
    auto change = make_change("wireguard", kind, std::move(id), op, std::move(before),
                              std::move(after), observe, std::move(pointer));
    if (std::string(kind) == "peer") change.identity_fields = {"interface", "public_key"};
    changes.push_back(std::move(change));
  }

  // The fingerprint of the preshared key in `path`, which must exist.
  Result<std::string> preshared_fingerprint(const std::string& path) {
    auto key = TRY(read_key(path));
    if (!key)
      return fail(ErrorCode::not_found,
                  "the preshared key file {} does not exist (both ends of a tunnel must hold the "
                  "same preshared key, so op-dbus does not invent one)",
                  path);
    return key->fingerprint();
  }

  // Whether a declared private key file holds the key whose public key is `current_public`.
  Result<bool> private_key_matches(const std::string& path, const Json& current_public) {
    auto key = TRY(read_key(path));
    if (!key) return false;
    return current_public.is_string() && TRY(key->public_key()).base64() == current_public;
  }

  // Declared peer fields, canonical (keys, endpoints and prefixes as WireGuard reports them).
  Result<Json> declared_peer(const std::string& interface, const Json& peer) {
    auto out = peer_identity(interface, canonical_key(peer["public_key"].get<std::string>()));
    if (peer.contains("endpoint"))
      out["endpoint"] = canonical_endpoint(peer["endpoint"].get<std::string>());
    if (peer.contains("allowed_ips"))
      out["allowed_ips"] = canonical_list(peer["allowed_ips"], canonical_allowed_ip);
    if (peer.contains("persistent_keepalive"))
      out["persistent_keepalive"] = peer["persistent_keepalive"];
    if (peer.contains("preshared_key_file")) {
      out["preshared_key_file"] = peer["preshared_key_file"];
      if (peer["preshared_key_file"].is_string())
        TRY(preshared_fingerprint(peer["preshared_key_file"].get<std::string>()));
    }
    return out;
  }

  // `have`'s value of each field of `after` that differs; the fields that match leave `after`.
  Result<Json> differing_peer_fields(const Json& have, Json& after) {
    Json before = peer_identity(after["interface"], after["public_key"]);
    for (const auto& field : {"endpoint", "allowed_ips", "persistent_keepalive"}) {
      if (!after.contains(field)) continue;
      auto current = have.value(field, Json());
      if (current == after[field])
        after.erase(field);
      else
        before[field] = current;
    }
    if (after.contains("preshared_key_file")) {
      const auto& file = after["preshared_key_file"];
      auto current = have.value("preshared_key_sha256", Json());
      bool same = file.is_null() ? current.is_null()
                                 : current == TRY(preshared_fingerprint(file.get<std::string>()));
      if (same)
        after.erase("preshared_key_file");
      else
        before["preshared_key_file"] =
            current.is_null() ? Json()
                              : Json("(another key, sha256 " + current.get<std::string>() + ")");
    }
    return before;
  }

  Status plan_peers(const std::string& interface, const Json& have_peers, const Json& wanted,
                    const std::string& pointer, bool observe) {
    std::set<std::string> declared_keys;
    for (size_t i = 0; i < wanted.size(); ++i) {
      auto after = TRY(declared_peer(interface, wanted[i]));
      auto key = after["public_key"].get<std::string>();
      declared_keys.insert(key);
      auto id = interface + " peer " + key;
      auto at = pointer_append(pointer, i);
      auto have = std::find_if(have_peers.begin(), have_peers.end(),
                               [&](const Json& peer) { return peer["public_key"] == key; });
      if (have == have_peers.end()) {
        add("peer", id, ChangeOp::create, Json(), after, observe, at);
        continue;
      }
      auto before = TRY(differing_peer_fields(*have, after));
      if (after.size() > 2) add("peer", id, ChangeOp::modify, before, after, observe, at);
    }
    for (const auto& have : have_peers) {
      auto key = have["public_key"].get<std::string>();
      if (declared_keys.count(key)) continue;
      auto before = peer_identity(interface, key);
      for (const auto& field : {"endpoint", "allowed_ips"})
        if (have.contains(field)) before[field] = have[field];
      add("peer", interface + " peer " + key, ChangeOp::remove, before, Json(), observe, pointer);
    }
    return ok();
  }

  static Json declared_device(const Json& item) {
    Json out = Json::object();
    for (const auto* field : kDeviceFields)
      if (item.contains(field)) out[field] = item[field];
    if (out.contains("addresses"))
      out["addresses"] = canonical_list(out["addresses"], canonical_address);
    return out;
  }

  Status create(const std::string& name, const Json& item, const std::string& pointer,
                bool observe) {
    add("interface", name, ChangeOp::create, Json(), declared_device(item), observe, pointer);
    return plan_peers(name, Json::array(), item.value("peers", Json::array()),
                      pointer_append(pointer, "peers"), observe);
  }

  Status modify(const std::string& name, const Json& have, const Json& item,
                const std::string& pointer, bool observe) {
    auto after = declared_device(item);
    Json before = Json::object();
    for (auto field = after.begin(); field != after.end();) {
      bool same = field.key() == "implementation"
                      ? field.value() == "auto" || field.value() == have["implementation"]
                  : field.key() == "private_key_file"
                      ? TRY(private_key_matches(field.value(), have.value("public_key", Json())))
                      : have.value(field.key(), Json()) == field.value();
      if (same) {
        field = after.erase(field);
        continue;
      }
      before[field.key()] = field.key() == "private_key_file"
                                ? Json("(the key of " + have.value("public_key", "no key") + ")")
                                : have.value(field.key(), Json());
      ++field;
    }
    if (!after.empty()) add("interface", name, ChangeOp::modify, before, after, observe, pointer);
    if (item.contains("peers"))
      TRY(plan_peers(name, have.value("peers", Json::array()), item["peers"],
                     pointer_append(pointer, "peers"), observe));
    return ok();
  }

  Status plan(const std::string& name, const Json* have, const Json& item,
              const std::string& pointer) {
    bool observe = item.value("mode", "enforce") == "observe";
    if (item.value("state", "present") == "absent") {
      if (have)
        add("interface", name, ChangeOp::remove, device_fields_of(*have), Json(), observe, pointer);
      return ok();
    }
    if (!have) return create(name, item, pointer, observe);
    auto implementation = item.value("implementation", "auto");
    if (implementation != "auto" && implementation != (*have)["implementation"]) {
      // Moving between the kernel and userspace means a new interface with the whole config.
      add("interface", name, ChangeOp::remove, device_fields_of(*have), Json(), observe, pointer);
      return create(name, item, pointer, observe);
    }
    return modify(name, *have, item, pointer, observe);
  }

  static Json device_fields_of(const Json& have) {
    Json out = Json::object();
    for (const auto* field : {"implementation", "public_key", "listen_port", "addresses"})
      if (have.contains(field)) out[field] = have[field];
    return out;
  }
};

Json without_read_only(Json interface) {
  interface.erase("public_key");
  for (auto& peer : interface["peers"])
    for (const auto* field : kPeerReadOnly) peer.erase(field);
  return interface;
}

}  // namespace

Json normalise(const std::map<std::string, InterfaceState>& interfaces) {
  Json out = Json::object();
  for (const auto& [name, state] : interfaces) out[name] = interface_json(state);
  return {{"interfaces", out}};
}

std::vector<Problem> validate_interfaces(const Json& section, const std::string& base_pointer) {
  std::vector<Problem> problems;
  std::map<int, std::string> ports;
  const auto interfaces = section.value("interfaces", Json::object());
  for (const auto& [name, item] : interfaces.items()) {
    auto pointer = pointer_append(pointer_append(base_pointer, "interfaces"), name);
    check_absolute(item, "private_key_file", pointer, problems);
    check_list(item.value("addresses", Json::array()), pointer_append(pointer, "addresses"),
               "address", canonical_address, problems);
    check_peers(item.value("peers", Json::array()), pointer_append(pointer, "peers"), problems);
    int port = item.value("listen_port", 0);
    if (port != 0 && item.value("state", "present") != "absent" &&
        !ports.emplace(port, name).second)
      problems.push_back({pointer_append(pointer, "listen_port"),
                          fmt::format("port {} is also {}'s", port, ports[port])});
  }
  return problems;
}

Result<std::vector<Change>> plan_interfaces(const Json& current, const Json& desired,
                                            const KeyFileReader& read_key) {
  Planner planner{read_key, {}};
  const auto existing = current.value("interfaces", Json::object());
  const auto wanted = desired.value("interfaces", Json::object());
  for (const auto& [name, item] : wanted.items()) {
    const Json* have = existing.contains(name) ? &existing[name] : nullptr;
    TRY(planner.plan(name, have, item, pointer_append("/interfaces", name)));
  }
  return std::move(planner.changes);
}

std::string interface_of(const Change& change) {
  if (change.kind == "interface") return change.id;
  return (change.after.is_object() ? change.after : change.before)["interface"].get<std::string>();
}

Json checkpoint_interfaces(const Json& current, const std::vector<Change>& changes) {
  std::set<std::string> touched;
  for (const auto& change : changes) touched.insert(interface_of(change));
  const auto existing = current.value("interfaces", Json::object());
  Json out = Json::object();
  for (const auto& name : touched)
    out[name] =
        existing.contains(name) ? without_read_only(existing[name]) : Json{{"state", "absent"}};
  return {{"interfaces", out}};
}

Json exact_interfaces(const Json& target, const Json& current) {
  return {
      {"interfaces", exact_named(target.value("interfaces", Json::object()),
                                 current.value("interfaces", Json::object()), without_read_only)}};
}

}  // namespace opdbus::wg
