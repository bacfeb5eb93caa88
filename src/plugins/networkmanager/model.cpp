// The networkmanager plugin's pure logic; see model.h.
#include "plugins/networkmanager/model.h"

#include <arpa/inet.h>

#include <map>

namespace opdbus::nm {
namespace {

const std::map<std::string, std::string> kTypes = {{"ethernet", "802-3-ethernet"},
                                                   {"wifi", "802-11-wireless"},
                                                   {"bridge", "bridge"},
                                                   {"bond", "bond"},
                                                   {"vlan", "vlan"},
                                                   {"loopback", "loopback"}};

Json typed(const char* signature, Json value) {
  return {{"signature", signature}, {"value", std::move(value)}};
}

// The value of a typed variant in settings[group][key], or null.
Json value_of(const Json& settings, const std::string& group, const std::string& key) {
  auto section = settings.find(group);
  if (section == settings.end() || !section->contains(key)) return Json();
  const auto& entry = (*section)[key];
  return entry.is_object() && entry.contains("value") ? entry["value"] : entry;
}

int family_of(const std::string& group) {
  return group == "ipv4" ? AF_INET : AF_INET6;
}

// A canonical textual address ("2001:db8::1"), or "" when `text` is not one of `family`.
std::string canonical_ip(const std::string& text, int family) {
  unsigned char buffer[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(family, text.c_str(), buffer) != 1) return "";
  return inet_ntop(family, buffer, out, sizeof out) ? out : "";
}

// "10.0.0.2/24" canonicalised, or "" when malformed.
std::string canonical_prefix(const std::string& text, int family) {
  auto slash = text.find('/');
  if (slash == std::string::npos) return "";
  auto ip = canonical_ip(text.substr(0, slash), family);
  auto digits = text.substr(slash + 1);
  if (ip.empty() || digits.empty() || digits.size() > 3 ||
      digits.find_first_not_of("0123456789") != std::string::npos)
    return "";
  int prefix = std::stoi(digits);
  if (prefix > (family == AF_INET ? 32 : 128)) return "";
  return ip + "/" + std::to_string(prefix);
}

Json dns_json(const Json& raw, int family) {
  Json out = Json::array();
  char text[INET6_ADDRSTRLEN];
  for (const auto& entry : raw.is_array() ? raw : Json::array()) {
    if (family == AF_INET) {
      in_addr address{entry.get<uint32_t>()};
      out.push_back(inet_ntop(AF_INET, &address, text, sizeof text));
    } else {
      unsigned char bytes[16] = {};
      for (size_t i = 0; i < 16 && i < entry.size(); ++i) bytes[i] = entry[i].get<uint8_t>();
      out.push_back(inet_ntop(AF_INET6, bytes, text, sizeof text));
    }
  }
  return out;
}

Json dns_typed(const Json& servers, int family) {
  Json out = Json::array();
  for (const auto& server : servers) {
    unsigned char bytes[16] = {};
    inet_pton(family, server.get<std::string>().c_str(), bytes);
    if (family == AF_INET) {
      in_addr address{};
      inet_pton(AF_INET, server.get<std::string>().c_str(), &address);
      out.push_back(address.s_addr);
    } else {
      out.push_back(Json(std::vector<int>(bytes, bytes + 16)));
    }
  }
  return typed(family == AF_INET ? "au" : "aay", out);
}

Json ip_json(const Json& settings, const std::string& group) {
  Json addresses = Json::array();
  for (const auto& entry : value_of(settings, group, "address-data").is_array()
                               ? value_of(settings, group, "address-data")
                               : Json::array()) {
    auto address = entry.contains("address") ? entry["address"].value("value", "") : "";
    auto prefix = entry.contains("prefix") ? entry["prefix"].value("value", 0) : 0;
    addresses.push_back(address + "/" + std::to_string(prefix));
  }
  Json out = {{"method", value_of(settings, group, "method").is_string()
                             ? value_of(settings, group, "method")
                             : Json("auto")},
              {"addresses", addresses},
              {"dns", dns_json(value_of(settings, group, "dns"), family_of(group))}};
  auto gateway = value_of(settings, group, "gateway");
  if (gateway.is_string() && !gateway.get<std::string>().empty()) out["gateway"] = gateway;
  return out;
}

void write_ip(Json& settings, const std::string& group, const Json& declared) {
  auto& section = settings[group];
  int family = family_of(group);
  if (declared.contains("method")) section["method"] = typed("s", declared["method"]);
  if (declared.contains("addresses")) {
    Json data = Json::array();
    for (const auto& text : declared["addresses"]) {
      auto canonical = canonical_prefix(text.get<std::string>(), family);
      auto slash = canonical.find('/');
      data.push_back({{"address", typed("s", canonical.substr(0, slash))},
                      {"prefix", typed("u", std::stoi(canonical.substr(slash + 1)))}});
    }
    section["address-data"] = typed("aa{sv}", data);
    section.erase("addresses");  // the legacy key would make NetworkManager ignore address-data
  }
  if (declared.contains("gateway")) {
    section.erase("addresses");
    if (declared["gateway"].is_string() && !declared["gateway"].get<std::string>().empty())
      section["gateway"] = typed("s", declared["gateway"]);
    else
      section.erase("gateway");
  }
  if (declared.contains("dns")) section["dns"] = dns_typed(declared["dns"], family);
}

void write_kind_settings(Json& settings, const Json& item) {
  if (item.contains("vlan")) {
    const auto& vlan = item["vlan"];
    if (vlan.contains("parent")) settings["vlan"]["parent"] = typed("s", vlan["parent"]);
    if (vlan.contains("id")) settings["vlan"]["id"] = typed("u", vlan["id"]);
  }
  if (item.contains("bond")) {
    Json options = item["bond"].value("options", Json::object());
    if (item["bond"].contains("mode")) options["mode"] = item["bond"]["mode"];
    settings["bond"]["options"] = typed("a{ss}", options);
  }
  if (item.contains("bridge") && item["bridge"].contains("stp"))
    settings["bridge"]["stp"] = typed("b", item["bridge"]["stp"]);
}

Json kind_json(const Json& settings) {
  Json out = Json::object();
  if (settings.contains("vlan"))
    out["vlan"] = {{"parent", value_of(settings, "vlan", "parent")},
                   {"id", value_of(settings, "vlan", "id")}};
  if (settings.contains("bond")) {
    auto options = value_of(settings, "bond", "options");
    Json bond = {{"mode", options.value("mode", "balance-rr")}};
    options.erase("mode");
    bond["options"] = options.is_object() ? options : Json::object();
    out["bond"] = bond;
  }
  if (settings.contains("bridge")) {
    auto stp = value_of(settings, "bridge", "stp");
    out["bridge"] = {{"stp", stp.is_boolean() ? stp : Json(true)}};
  }
  return out;
}

void check_ip(const Json& ip, const std::string& group, const std::string& pointer,
              std::vector<Problem>& problems) {
  int family = family_of(group);
  const auto addresses = ip.value("addresses", Json::array());
  for (size_t i = 0; i < addresses.size(); ++i)
    if (canonical_prefix(addresses[i].get<std::string>(), family).empty())
      problems.push_back({pointer_append(pointer + "/addresses", i),
                          fmt::format("'{}' is not an {} address with a prefix length",
                                      addresses[i].get<std::string>(), group)});
  if (ip.value("method", "") == "manual" && addresses.empty())
    problems.push_back({pointer + "/method", "method manual needs at least one address"});
  if (ip.contains("gateway") && ip["gateway"].is_string() &&
      !ip["gateway"].get<std::string>().empty() &&
      canonical_ip(ip["gateway"].get<std::string>(), family).empty())
    problems.push_back(
        {pointer + "/gateway",
         fmt::format("'{}' is not an {} address", ip["gateway"].get<std::string>(), group)});
  const auto dns = ip.value("dns", Json::array());
  for (size_t i = 0; i < dns.size(); ++i)
    if (canonical_ip(dns[i].get<std::string>(), family).empty())
      problems.push_back(
          {pointer_append(pointer + "/dns", i),
           fmt::format("'{}' is not an {} address", dns[i].get<std::string>(), group)});
}

// `item`'s declared fields, addresses canonicalised, without "mode" and read-only fields.
Json declared_fields(const Json& item) {
  Json out = item;
  for (const char* key : {"mode", "uuid", "device"}) out.erase(key);
  for (const char* group : {"ipv4", "ipv6"}) {
    if (!out.contains(group)) continue;
    int family = family_of(group);
    auto& ip = out[group];
    if (ip.contains("addresses"))
      for (auto& address : ip["addresses"])
        address = canonical_prefix(address.get<std::string>(), family);
    if (ip.contains("dns"))
      for (auto& server : ip["dns"]) server = canonical_ip(server.get<std::string>(), family);
    if (ip.contains("gateway") && ip["gateway"].is_string())
      ip["gateway"] = canonical_ip(ip["gateway"].get<std::string>(), family);
  }
  return out;
}

Result<std::string> port_type_of(const std::string& controller, const Json& current,
                                 const Json& desired) {
  for (const auto* section : {&desired, &current}) {
    const auto connections = section->value("connections", Json::object());
    for (const auto& [id, item] : connections.items())
      if (item.value("interface", "") == controller &&
          (item.value("type", "") == "bridge" || item.value("type", "") == "bond"))
        return item["type"].get<std::string>();
  }
  return fail(ErrorCode::invalid_input,
              "controller '{}' is neither a declared nor an existing bridge or bond connection; "
              "declare port_type (bridge or bond)",
              controller);
}

}  // namespace

std::string nm_type(const std::string& type) {
  auto it = kTypes.find(type);
  return it == kTypes.end() ? type : it->second;
}

std::string plugin_type(const std::string& type) {
  for (const auto& [name, nm] : kTypes)
    if (nm == type) return name;
  return type;
}

Json connection_json(const Json& settings) {
  Json out = {{"type", plugin_type(value_of(settings, "connection", "type").get<std::string>())},
              {"uuid", value_of(settings, "connection", "uuid")}};
  auto autoconnect = value_of(settings, "connection", "autoconnect");
  out["autoconnect"] = autoconnect.is_boolean() ? autoconnect : Json(true);
  auto interface = value_of(settings, "connection", "interface-name");
  if (interface.is_string()) out["interface"] = interface;
  auto controller = value_of(settings, "connection", "master");
  if (controller.is_string()) {
    out["controller"] = controller;
    out["port_type"] = value_of(settings, "connection", "slave-type");
  }
  for (const char* group : {"ipv4", "ipv6"})
    if (settings.contains(group)) out[group] = ip_json(settings, group);
  out.update(kind_json(settings));
  return out;
}

Result<Json> apply_declared(Json settings, const std::string& id, const Json& item,
                            const std::string& uuid) {
  auto& connection = settings["connection"];
  connection["id"] = typed("s", id);
  if (!connection.contains("uuid")) connection["uuid"] = typed("s", uuid);
  if (item.contains("type")) {
    connection["type"] = typed("s", nm_type(item["type"].get<std::string>()));
    if (item["type"] == "ethernet" && !settings.contains("802-3-ethernet"))
      settings["802-3-ethernet"] = Json::object();
  }
  if (item.contains("interface")) connection["interface-name"] = typed("s", item["interface"]);
  if (item.contains("autoconnect")) connection["autoconnect"] = typed("b", item["autoconnect"]);
  if (item.contains("controller")) {
    connection["master"] = typed("s", item["controller"]);
    connection["slave-type"] = typed("s", item.value("port_type", "bridge"));
    settings.erase("ipv4");
    settings.erase("ipv6");
  }
  for (const char* group : {"ipv4", "ipv6"})
    if (item.contains(group)) write_ip(settings, group, item[group]);
  write_kind_settings(settings, item);
  return settings;
}

std::vector<Problem> validate_connections(const Json& section, const std::string& base_pointer) {
  std::vector<Problem> problems;
  const auto connections = section.value("connections", Json::object());
  for (const auto& [id, item] : connections.items()) {
    auto pointer = pointer_append(base_pointer + "/connections", id);
    for (const char* group : {"ipv4", "ipv6"})
      if (item.contains(group)) check_ip(item[group], group, pointer + "/" + group, problems);
    if (item.contains("controller") && (item.contains("ipv4") || item.contains("ipv6")))
      problems.push_back({pointer + "/controller",
                          "a port (controller set) has no IP configuration of its own; drop "
                          "ipv4/ipv6 or controller"});
    if (item.value("type", "") == "vlan" && item.value("state", "") != "absent" &&
        !(item.contains("vlan") && item["vlan"].contains("parent") && item["vlan"].contains("id")))
      problems.push_back({pointer + "/type", "a vlan connection needs vlan.parent and vlan.id"});
  }
  return problems;
}

Result<std::vector<Change>> plan_connections(const Json& current, const Json& desired) {
  std::vector<Change> changes;
  const auto existing = current.value("connections", Json::object());
  const auto connections = desired.value("connections", Json::object());
  for (const auto& [id, item] : connections.items()) {
    bool observe = item.value("mode", "enforce") == "observe";
    auto have = existing.find(id);
    if (item.value("state", "") == "absent") {
      if (have != existing.end())
        changes.push_back(make_change("networkmanager", "connection", id, ChangeOp::remove, *have,
                                      Json(), observe, pointer_append("/connections", id)));
      continue;
    }
    auto after = declared_fields(item);
    if (after.contains("controller") && !after.contains("port_type"))
      after["port_type"] =
          TRY(port_type_of(after["controller"].get<std::string>(), current, desired));
    if (have == existing.end()) {
      if (!after.contains("type"))
        return fail(ErrorCode::invalid_input,
                    "connection '{}' does not exist; declare its type to create it", id);
      changes.push_back(make_change("networkmanager", "connection", id, ChangeOp::create, Json(),
                                    after, observe, pointer_append("/connections", id)));
    } else if (!declared_fields_match(*have, after)) {
      changes.push_back(make_change("networkmanager", "connection", id, ChangeOp::modify,
                                    project_onto(*have, after), after, observe,
                                    pointer_append("/connections", id)));
    }
  }
  return changes;
}

}  // namespace opdbus::nm
