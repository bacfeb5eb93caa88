// Semantic validation of a desired `net` section: everything the JSON Schema cannot say
// (address syntax and family, host bits, duplicates, references between items). Runs before
// anything touches the host; every problem names its JSON pointer.
#include <sys/socket.h>

#include <set>

#include "plugins/net/model.h"

namespace opdbus::net {
namespace {

using netlink::IpAddress;
using netlink::Prefix;

struct Checker {
  std::vector<Problem> problems;
  void add(std::string pointer, std::string message) {
    problems.push_back({std::move(pointer), std::move(message)});
  }
};

const std::set<std::string> kKindSections{"bridge", "veth", "vlan", "vxlan", "macvlan", "bond"};

void check_addresses(Checker& checker, const Json& interface, const std::string& pointer) {
  for (const auto& [family_name, family] :
       {std::pair{"ipv4", AF_INET}, std::pair{"ipv6", AF_INET6}}) {
    if (!interface.contains(family_name) || !interface[family_name].contains("address")) continue;
    std::set<std::string> seen;
    const auto& list = interface[family_name]["address"];
    for (size_t i = 0; i < list.size(); ++i) {
      auto item_pointer =
          pointer_append(pointer_append(pointer_append(pointer, family_name), "address"), i);
      auto ip = IpAddress::parse(list[i]["ip"].get<std::string>());
      if (!ip) {
        checker.add(item_pointer + "/ip", ip.error().message);
        continue;
      }
      if (ip->family != family) {
        checker.add(item_pointer + "/ip", fmt::format("'{}' is not an {} address", ip->to_string(),
                                                      family == AF_INET ? "IPv4" : "IPv6"));
        continue;
      }
      int prefix = list[i]["prefix"].get<int>();
      if (prefix > netlink::max_prefix_length(family))
        checker.add(item_pointer + "/prefix", fmt::format("prefix {} is longer than {}", prefix,
                                                          netlink::max_prefix_length(family)));
      if (list[i].contains("preferred_lifetime") && list[i].contains("valid_lifetime") &&
          list[i]["preferred_lifetime"].get<uint64_t>() > list[i]["valid_lifetime"].get<uint64_t>())
        checker.add(item_pointer + "/preferred_lifetime",
                    "preferred_lifetime exceeds valid_lifetime");
      if (!seen.insert(ip->to_string()).second)
        checker.add(item_pointer + "/ip",
                    fmt::format("address {} is listed twice", ip->to_string()));
    }
  }
}

void check_interface(Checker& checker, const Json& interface, const std::string& pointer) {
  const auto name = interface["name"].get<std::string>();
  const auto type = interface.value("type", "");
  for (const auto& section : kKindSections) {
    if (interface.contains(section) && !type.empty() && type != section)
      checker.add(pointer_append(pointer, section),
                  fmt::format("'{}' settings on an interface of type '{}'", section, type));
  }
  if (interface.contains("master") && interface["master"] == name)
    checker.add(pointer_append(pointer, "master"), "an interface cannot be its own master");
  if (interface.contains("veth") && interface["veth"]["peer"] == name)
    checker.add(pointer + "/veth/peer", "a veth cannot be its own peer");
  if (type == "vlan" && interface.contains("vlan") && interface.value("state", "") != "absent" &&
      !interface["vlan"].contains("base"))
    checker.add(pointer + "/vlan", "a vlan needs its base interface ('base')");
  if (interface.contains("vxlan")) {
    for (const char* field : {"local", "remote"}) {
      if (!interface["vxlan"].contains(field)) continue;
      auto ip = IpAddress::parse(interface["vxlan"][field].get<std::string>());
      if (!ip) checker.add(pointer + "/vxlan/" + field, ip.error().message);
    }
  }
  check_addresses(checker, interface, pointer);
}

void check_route(Checker& checker, const Json& route, const std::string& pointer) {
  std::optional<IpAddress> gateway;
  if (route.contains("gateway")) {
    auto parsed = IpAddress::parse(route["gateway"].get<std::string>());
    if (!parsed) return checker.add(pointer + "/gateway", parsed.error().message);
    gateway = *parsed;
  }
  const auto text = route["destination"].get<std::string>();
  auto destination = Prefix::parse(text, gateway ? gateway->family : 0);
  if (!destination) return checker.add(pointer + "/destination", destination.error().message);
  if (text != "default" && text.find('/') != std::string::npos) {
    auto given = IpAddress::parse(text.substr(0, text.find('/')));
    if (given && !(*given == destination->address))
      checker.add(pointer + "/destination",
                  fmt::format("'{}' has host bits set; did you mean '{}'?", text,
                              destination->to_string()));
  }
  if (gateway && gateway->family != destination->address.family)
    checker.add(pointer + "/gateway", "gateway and destination are of different address families");
  const auto type = route.value("type", "unicast");
  if (type != "unicast" && (route.contains("gateway") || route.contains("dev")))
    checker.add(pointer + "/type", fmt::format("a {} route takes neither gateway nor dev", type));
  if (type == "unicast" && route.value("state", "present") != "absent" &&
      !route.contains("gateway") && !route.contains("dev"))
    checker.add(pointer, "a unicast route needs a gateway or a dev");
}

}  // namespace

std::vector<Problem> validate_section(const Json& section, const std::string& base_pointer) {
  Checker checker;
  std::set<std::string> names;
  const auto interfaces = section.value("interfaces", Json::array());
  for (size_t i = 0; i < interfaces.size(); ++i) {
    auto pointer = pointer_append(pointer_append(base_pointer, "interfaces"), i);
    if (!names.insert(interfaces[i]["name"].get<std::string>()).second)
      checker.add(pointer + "/name", fmt::format("interface '{}' is declared twice",
                                                 interfaces[i]["name"].get<std::string>()));
    check_interface(checker, interfaces[i], pointer);
  }
  std::set<std::string> route_keys;
  const auto routes = section.value("routes", Json::array());
  for (size_t i = 0; i < routes.size(); ++i) {
    auto pointer = pointer_append(pointer_append(base_pointer, "routes"), i);
    size_t before = checker.problems.size();
    check_route(checker, routes[i], pointer);
    if (checker.problems.size() != before) continue;
    auto normalised = normalise_desired(Json{{"routes", Json::array({routes[i]})}});
    if (normalised && !route_keys.insert(route_key((*normalised)["routes"][0])).second)
      checker.add(pointer,
                  fmt::format("route {} is declared twice", route_key((*normalised)["routes"][0])));
  }
  return checker.problems;
}

}  // namespace opdbus::net
