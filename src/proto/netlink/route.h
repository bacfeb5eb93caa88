// The rtnetlink object model: links, addresses and routes as plain values, with builders for
// the requests that create, change and delete them and parsers for the kernel's dump replies.
// Invariants: builders never touch the network; parsers never trust attribute lengths they have
// not validated (mnl_attr_validate), and reject messages that are not of the expected type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "proto/netlink/ip_address.h"
#include "proto/netlink/message.h"

namespace opdbus::netlink {

// Kind-specific link settings (IFLA_INFO_DATA); only the member matching `kind` is meaningful.
struct LinkKindData {
  std::optional<bool> bridge_stp;
  std::optional<uint16_t> vlan_id;
  std::optional<std::string> vlan_protocol;  // "802.1q" or "802.1ad"
  std::optional<uint32_t> vxlan_id;
  std::optional<uint16_t> vxlan_port;
  std::optional<IpAddress> vxlan_local;
  std::optional<IpAddress> vxlan_remote;
  std::optional<uint32_t> macvlan_mode;  // MACVLAN_MODE_*
  std::optional<uint8_t> bond_mode;      // BOND_MODE_* (0..6)
  bool operator==(const LinkKindData&) const = default;
};

struct Link {
  int index = 0;
  std::string name;
  std::string kind;          // IFLA_INFO_KIND, or "" for a plain device
  uint16_t device_type = 0;  // ARPHRD_*
  uint32_t flags = 0;        // IFF_*
  uint32_t mtu = 0;
  std::string mac;  // "aa:bb:cc:dd:ee:ff", empty when the device has none
  int master = 0;   // IFLA_MASTER
  int parent = 0;   // IFLA_LINK: veth peer, vlan/macvlan base
  bool parent_in_other_netns = false;
  uint8_t operstate = 0;
  std::vector<std::string> altnames;
  LinkKindData data;

  bool up() const;
};

// What a new link is created with.
struct LinkCreate {
  std::string name;
  std::string kind;
  std::optional<uint32_t> mtu;
  std::optional<std::string> mac;
  int parent = 0;         // base link for vlan/macvlan/vxlan
  std::string peer_name;  // veth
  LinkKindData data;
};

// A change to an existing link; unset members are left alone.
struct LinkUpdate {
  std::optional<bool> up;
  std::optional<uint32_t> mtu;
  std::optional<std::string> mac;
  std::optional<int> master;  // 0 releases the link from its master
  std::string kind;           // required when `data` carries settings
  LinkKindData data;
  bool empty() const;
};

struct Address {
  int index = 0;
  IpAddress ip;
  uint8_t prefix = 0;
  uint32_t preferred_lifetime = UINT32_MAX;  // seconds; UINT32_MAX is "forever"
  uint32_t valid_lifetime = UINT32_MAX;
  uint8_t scope = 0;
  uint32_t flags = 0;
};

struct Route {
  int family = 0;
  Prefix destination;
  std::optional<IpAddress> gateway;
  int output_index = 0;
  uint32_t metric = 0;
  uint32_t table = 254;  // RT_TABLE_MAIN
  uint8_t scope = 0;     // RT_SCOPE_UNIVERSE
  uint8_t type = 1;      // RTN_UNICAST
  uint8_t protocol = 4;  // RTPROT_STATIC
};

Message build_link_dump();
Message build_link_create(const LinkCreate& link);
Message build_link_update(int index, const LinkUpdate& update);
Message build_link_delete(int index);
Message build_link_altname(int index, const std::string& altname, bool add);
Result<Link> parse_link(const nlmsghdr& nlh);

Message build_address_dump();
Message build_address_add(const Address& address);
Message build_address_delete(const Address& address);
Result<Address> parse_address(const nlmsghdr& nlh);

Message build_route_dump(int family);
Message build_route_replace(const Route& route);
Message build_route_delete(const Route& route);
Result<Route> parse_route(const nlmsghdr& nlh);

std::string format_mac(const uint8_t* bytes, size_t length);
Result<std::vector<uint8_t>> parse_mac(const std::string& text);

}  // namespace opdbus::netlink
