// Kernel state -> normalised JSON, and canonical spelling of desired sections; see model.h.
#include "plugins/net/model.h"

#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <utility>

namespace opdbus::net {
namespace {

using netlink::IpAddress;
using netlink::Prefix;

constexpr std::array<std::pair<const char*, uint32_t>, 5> kMacvlanModes{
    {{"private", MACVLAN_MODE_PRIVATE},
     {"vepa", MACVLAN_MODE_VEPA},
     {"bridge", MACVLAN_MODE_BRIDGE},
     {"passthru", MACVLAN_MODE_PASSTHRU},
     {"source", MACVLAN_MODE_SOURCE}}};
constexpr std::array<const char*, 7> kBondModes{"balance-rr", "active-backup", "balance-xor",
                                                "broadcast",  "802.3ad",       "balance-tlb",
                                                "balance-alb"};
constexpr std::array<std::pair<const char*, uint8_t>, 4> kScopes{{{"universe", RT_SCOPE_UNIVERSE},
                                                                  {"site", RT_SCOPE_SITE},
                                                                  {"link", RT_SCOPE_LINK},
                                                                  {"host", RT_SCOPE_HOST}}};
constexpr std::array<std::pair<const char*, uint8_t>, 4> kRouteTypes{
    {{"unicast", RTN_UNICAST},
     {"blackhole", RTN_BLACKHOLE},
     {"unreachable", RTN_UNREACHABLE},
     {"prohibit", RTN_PROHIBIT}}};

const char* operstate_name(uint8_t state) {
  static constexpr std::array<const char*, 7> names{
      "unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up"};
  return state < names.size() ? names[state] : "unknown";
}

std::string link_type(const netlink::Link& link) {
  if (!link.kind.empty()) return link.kind;
  if (link.device_type == ARPHRD_LOOPBACK) return "loopback";
  if (link.device_type == ARPHRD_ETHER) return "ethernet";
  return "other";
}

std::string link_name(const KernelState& state, int index) {
  const auto* link = state.link_by_index(index);
  return link ? link->name : std::to_string(index);
}

Json kind_section(const KernelState& state, const netlink::Link& link) {
  const auto& data = link.data;
  Json out = Json::object();
  if (link.kind == "bridge") {
    if (data.bridge_stp) out["stp"] = *data.bridge_stp;
    auto ports = state.ports_of(link.index);
    std::sort(ports.begin(), ports.end());
    out["ports"] = ports;
  } else if (link.kind == "veth") {
    if (link.parent && !link.parent_in_other_netns) out["peer"] = link_name(state, link.parent);
  } else if (link.kind == "vlan") {
    if (link.parent) out["base"] = link_name(state, link.parent);
    if (data.vlan_id) out["id"] = *data.vlan_id;
    if (data.vlan_protocol) out["protocol"] = *data.vlan_protocol;
  } else if (link.kind == "vxlan") {
    if (data.vxlan_id) out["id"] = *data.vxlan_id;
    if (data.vxlan_port) out["port"] = *data.vxlan_port;
    if (data.vxlan_local) out["local"] = data.vxlan_local->to_string();
    if (data.vxlan_remote) out["remote"] = data.vxlan_remote->to_string();
  } else if (link.kind == "macvlan") {
    if (link.parent) out["base"] = link_name(state, link.parent);
    if (data.macvlan_mode) out["mode"] = macvlan_mode_name(*data.macvlan_mode);
  } else if (link.kind == "bond") {
    if (data.bond_mode) out["mode"] = bond_mode_name(*data.bond_mode);
  }
  return out;
}

Json address_json(const netlink::Address& address) {
  Json out = {{"ip", address.ip.to_string()}, {"prefix", address.prefix}};
  if (address.preferred_lifetime != UINT32_MAX)
    out["preferred_lifetime"] = address.preferred_lifetime;
  if (address.valid_lifetime != UINT32_MAX) out["valid_lifetime"] = address.valid_lifetime;
  return out;
}

bool address_less(const Json& a, const Json& b) {
  auto ia = IpAddress::parse(a["ip"].get<std::string>());
  auto ib = IpAddress::parse(b["ip"].get<std::string>());
  if (ia && ib && ia->family == ib->family && ia->bytes != ib->bytes) return ia->bytes < ib->bytes;
  if (ia && ib && ia->family != ib->family) return ia->family < ib->family;
  return a["prefix"].get<int>() < b["prefix"].get<int>();
}

Json link_json(const KernelState& state, const netlink::Link& link) {
  Json out = {{"name", link.name},
              {"type", link_type(link)},
              {"state", link.up() ? "up" : "down"},
              {"mtu", link.mtu}};
  if (!link.mac.empty() && link.device_type == ARPHRD_ETHER) out["mac_address"] = link.mac;
  if (link.master) out["master"] = link_name(state, link.master);
  if (!link.altnames.empty()) {
    auto altnames = link.altnames;
    std::sort(altnames.begin(), altnames.end());
    out["altnames"] = altnames;
  }
  Json kind = kind_section(state, link);
  if (!kind.empty()) out[link_type(link)] = kind;
  Json v4 = Json::array(), v6 = Json::array();
  for (const auto* address : state.addresses_of(link.index)) {
    if (address->ip.is_ipv6_link_local()) continue;
    (address->ip.family == AF_INET ? v4 : v6).push_back(address_json(*address));
  }
  std::sort(v4.begin(), v4.end(), address_less);
  std::sort(v6.begin(), v6.end(), address_less);
  if (!v4.empty()) out["ipv4"] = {{"address", v4}};
  if (!v6.empty()) out["ipv6"] = {{"address", v6}};
  out["index"] = link.index;
  out["operstate"] = operstate_name(link.operstate);
  return out;
}

bool is_managed_route(const netlink::Route& route) {
  if (route.table == RT_TABLE_LOCAL || route.protocol == RTPROT_KERNEL) return false;
  return route.type == RTN_UNICAST || route.type == RTN_BLACKHOLE ||
         route.type == RTN_UNREACHABLE || route.type == RTN_PROHIBIT;
}

template <typename Table>
std::string name_of(const Table& table, uint32_t value) {
  for (const auto& [name, number] : table)
    if (number == value) return name;
  return std::to_string(value);
}

template <typename Table>
auto value_of(const Table& table, const std::string& name)
    -> std::optional<decltype(table[0].second)> {
  for (const auto& [entry, number] : table)
    if (name == entry) return number;
  return std::nullopt;
}

Json route_json(const KernelState& state, const netlink::Route& route) {
  Json out = {{"destination", route.destination.to_string()}};
  if (route.gateway) out["gateway"] = route.gateway->to_string();
  if (route.output_index) out["dev"] = link_name(state, route.output_index);
  out["metric"] = route.metric;
  out["table"] = route.table;
  out["scope"] = name_of(kScopes, route.scope);
  out["type"] = name_of(kRouteTypes, route.type);
  return out;
}

Result<Json> normalise_address(const Json& address) {
  Json out = address;
  auto ip = TRY(IpAddress::parse(address["ip"].get<std::string>()));
  out["ip"] = ip.to_string();
  return out;
}

Result<Json> normalise_interface(const Json& interface) {
  Json out = interface;
  if (out.contains("mac_address")) {
    auto mac = out["mac_address"].get<std::string>();
    std::transform(mac.begin(), mac.end(), mac.begin(), ::tolower);
    out["mac_address"] = mac;
  }
  if (out.contains("master") && out["master"].is_string() &&
      out["master"].get<std::string>().empty())
    out["master"] = nullptr;
  if (out.contains("altnames")) {
    auto altnames = out["altnames"].get<std::vector<std::string>>();
    std::sort(altnames.begin(), altnames.end());
    out["altnames"] = altnames;
  }
  if (out.contains("bridge") && out["bridge"].contains("ports")) {
    auto ports = out["bridge"]["ports"].get<std::vector<std::string>>();
    std::sort(ports.begin(), ports.end());
    out["bridge"]["ports"] = ports;
  }
  for (const char* family : {"ipv4", "ipv6"}) {
    if (!out.contains(family) || !out[family].contains("address")) continue;
    Json addresses = Json::array();
    for (const auto& address : out[family]["address"])
      addresses.push_back(TRY(normalise_address(address)));
    std::sort(addresses.begin(), addresses.end(), address_less);
    out[family]["address"] = addresses;
  }
  for (const char* ip_field : {"local", "remote"}) {
    if (out.contains("vxlan") && out["vxlan"].contains(ip_field))
      out["vxlan"][ip_field] =
          TRY(IpAddress::parse(out["vxlan"][ip_field].get<std::string>())).to_string();
  }
  return out;
}

Result<Json> normalise_route(const Json& route) {
  Json out = route;
  int family = AF_INET;
  if (route.contains("gateway")) {
    auto gateway = TRY(IpAddress::parse(route["gateway"].get<std::string>()));
    out["gateway"] = gateway.to_string();
    family = gateway.family;
  }
  auto destination = TRY(Prefix::parse(route["destination"].get<std::string>(), family));
  out["destination"] = destination.to_string();
  if (!out.contains("table")) out["table"] = kMainTable;
  if (!out.contains("metric")) out["metric"] = default_metric(destination.address.family);
  return out;
}

}  // namespace

void KernelState::index() {
  by_index_.clear();
  addresses_by_link_.clear();
  ports_by_master_.clear();
  for (size_t i = 0; i < links.size(); ++i) {
    by_index_[links[i].index] = i;
    if (links[i].master) ports_by_master_[links[i].master].push_back(links[i].name);
  }
  for (const auto& address : addresses) addresses_by_link_[address.index].push_back(&address);
}

const netlink::Link* KernelState::link_by_index(int index) const {
  auto it = by_index_.find(index);
  return it == by_index_.end() ? nullptr : &links[it->second];
}

const std::vector<const netlink::Address*>& KernelState::addresses_of(int index) const {
  static const std::vector<const netlink::Address*> kNone;
  auto it = addresses_by_link_.find(index);
  return it == addresses_by_link_.end() ? kNone : it->second;
}

const std::vector<std::string>& KernelState::ports_of(int index) const {
  static const std::vector<std::string> kNone;
  auto it = ports_by_master_.find(index);
  return it == ports_by_master_.end() ? kNone : it->second;
}

Result<std::vector<netlink::Link>> read_links(netlink::Socket& socket) {
  std::vector<netlink::Link> links;
  TRY(socket.dump(netlink::build_link_dump(), [&](const nlmsghdr& nlh) -> Status {
    links.push_back(TRY(netlink::parse_link(nlh)));
    return ok();
  }));
  return links;
}

Result<KernelState> read_kernel_state(netlink::Socket& socket) {
  KernelState state;
  state.links = TRY(read_links(socket));
  TRY(socket.dump(netlink::build_address_dump(), [&](const nlmsghdr& nlh) -> Status {
    state.addresses.push_back(TRY(netlink::parse_address(nlh)));
    return ok();
  }));
  for (int family : {AF_INET, AF_INET6}) {
    TRY(socket.dump(netlink::build_route_dump(family), [&](const nlmsghdr& nlh) -> Status {
      auto route = TRY(netlink::parse_route(nlh));
      if (is_managed_route(route)) state.routes.push_back(route);
      return ok();
    }));
  }
  state.index();
  return state;
}

Json normalise(const KernelState& state) {
  Json interfaces = Json::array();
  for (const auto& link : state.links) interfaces.push_back(link_json(state, link));
  std::sort(interfaces.begin(), interfaces.end(), [](const Json& a, const Json& b) {
    return a["index"].get<int>() < b["index"].get<int>();
  });
  Json routes = Json::array();
  for (const auto& route : state.routes) routes.push_back(route_json(state, route));
  std::sort(routes.begin(), routes.end(),
            [](const Json& a, const Json& b) { return route_key(a) < route_key(b); });
  return {{"interfaces", interfaces}, {"routes", routes}};
}

Result<Json> normalise_desired(const Json& section) {
  Json out = section;
  if (section.contains("interfaces")) {
    out["interfaces"] = Json::array();
    for (const auto& interface : section["interfaces"])
      out["interfaces"].push_back(TRY(normalise_interface(interface)));
  }
  if (section.contains("routes")) {
    out["routes"] = Json::array();
    for (const auto& route : section["routes"])
      out["routes"].push_back(TRY(normalise_route(route)));
  }
  return out;
}

uint32_t default_metric(int family) {
  return family == AF_INET6 ? 1024 : 0;
}

int route_family(const Json& route) {
  auto prefix = Prefix::parse(route["destination"].get<std::string>());
  return prefix ? prefix->address.family : AF_INET;
}

std::string route_key(const Json& route) {
  return fmt::format("{} table {} metric {}", route["destination"].get<std::string>(),
                     route.value("table", kMainTable),
                     route.value("metric", default_metric(route_family(route))));
}

std::string address_key(const Json& address) {
  return fmt::format("{}/{}", address["ip"].get<std::string>(), address["prefix"].get<int>());
}

bool is_creatable_type(const std::string& type) {
  static constexpr std::array<const char*, 8> kCreatable{"bridge", "veth", "macvlan", "vxlan",
                                                         "dummy",  "vlan", "bond",    "ifb"};
  return std::find(kCreatable.begin(), kCreatable.end(), type) != kCreatable.end();
}

std::optional<uint32_t> macvlan_mode_value(const std::string& name) {
  return value_of(kMacvlanModes, name);
}
std::string macvlan_mode_name(uint32_t value) {
  return name_of(kMacvlanModes, value);
}

std::optional<uint8_t> bond_mode_value(const std::string& name) {
  for (size_t i = 0; i < kBondModes.size(); ++i)
    if (name == kBondModes[i]) return static_cast<uint8_t>(i);
  return std::nullopt;
}
std::string bond_mode_name(uint8_t value) {
  return value < kBondModes.size() ? kBondModes[value] : std::to_string(value);
}

std::optional<uint8_t> route_scope_value(const std::string& name) {
  return value_of(kScopes, name);
}
std::optional<uint8_t> route_type_value(const std::string& name) {
  return value_of(kRouteTypes, name);
}

}  // namespace opdbus::net
