// rtnetlink message builders and parsers; see route.h.
#include "proto/netlink/route.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <cstdio>

namespace opdbus::netlink {
namespace {

uint16_t vlan_protocol_number(const std::string& name) {
  return name == "802.1ad" ? 0x88a8 : 0x8100;
}

// `vxlan_base` (IFLA_VXLAN_LINK) shares the one IFLA_INFO_DATA nest: the kernel keeps only the
// last nest of a type.
void put_kind_data(Message& message, const std::string& kind, const LinkKindData& data,
                   int vxlan_base = 0) {
  auto* data_nest = message.begin_nested(IFLA_INFO_DATA);
  if (vxlan_base) message.put_u32(IFLA_VXLAN_LINK, static_cast<uint32_t>(vxlan_base));
  if (kind == "bridge" && data.bridge_stp)
    message.put_u32(IFLA_BR_STP_STATE, *data.bridge_stp ? 1 : 0);
  if (kind == "vlan" && data.vlan_id) message.put_u16(IFLA_VLAN_ID, *data.vlan_id);
  if (kind == "vlan" && data.vlan_protocol)
    message.put_u16(IFLA_VLAN_PROTOCOL, htons(vlan_protocol_number(*data.vlan_protocol)));
  if (kind == "vxlan") {
    if (data.vxlan_id) message.put_u32(IFLA_VXLAN_ID, *data.vxlan_id);
    if (data.vxlan_port) message.put_u16(IFLA_VXLAN_PORT, htons(*data.vxlan_port));
    auto put_ip = [&](uint16_t v4, uint16_t v6, const IpAddress& ip) {
      message.put_bytes(ip.family == AF_INET ? v4 : v6, ip.bytes.data(), ip.length());
    };
    if (data.vxlan_local) put_ip(IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6, *data.vxlan_local);
    if (data.vxlan_remote) put_ip(IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6, *data.vxlan_remote);
  }
  if (kind == "macvlan" && data.macvlan_mode)
    message.put_u32(IFLA_MACVLAN_MODE, *data.macvlan_mode);
  if (kind == "bond" && data.bond_mode) message.put_u8(IFLA_BOND_MODE, *data.bond_mode);
  message.end_nested(data_nest);
}

void put_mac(Message& message, const std::string& text) {
  auto bytes = parse_mac(text);
  if (bytes) message.put_bytes(IFLA_ADDRESS, bytes->data(), bytes->size());
}

template <typename Parser>
Status parse_nested(const nlattr* nest, Parser&& parser) {
  Status status = ok();
  for_each_nested(nest, [&](const nlattr* attr) {
    if (status) status = parser(attr);
  });
  return status;
}

template <typename Parser>
Status parse_attributes(const nlmsghdr& nlh, size_t offset, Parser&& parser) {
  Status status = ok();
  for_each_attribute(&nlh, offset, [&](const nlattr* attr) {
    if (status) status = parser(attr);
  });
  return status;
}

Result<std::string> attr_string(const nlattr* attr) {
  if (mnl_attr_validate(attr, MNL_TYPE_STRING) < 0)
    return fail(ErrorCode::kernel, "malformed string attribute {}", mnl_attr_get_type(attr));
  return std::string(mnl_attr_get_str(attr),
                     strnlen(mnl_attr_get_str(attr), mnl_attr_get_payload_len(attr)));
}

Result<uint32_t> attr_u32(const nlattr* attr) {
  if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
    return fail(ErrorCode::kernel, "malformed u32 attribute {}", mnl_attr_get_type(attr));
  return mnl_attr_get_u32(attr);
}

Result<IpAddress> attr_ip(const nlattr* attr, int family) {
  return IpAddress::from_bytes(family, mnl_attr_get_payload(attr), mnl_attr_get_payload_len(attr));
}

Status parse_kind_data(const std::string& kind, const nlattr* nest, LinkKindData& data) {
  return parse_nested(nest, [&](const nlattr* attr) -> Status {
    auto type = mnl_attr_get_type(attr);
    auto length = mnl_attr_get_payload_len(attr);
    if (kind == "bridge" && type == IFLA_BR_STP_STATE) data.bridge_stp = TRY(attr_u32(attr)) != 0;
    if (kind == "vlan" && type == IFLA_VLAN_ID && length >= 2)
      data.vlan_id = mnl_attr_get_u16(attr);
    if (kind == "vlan" && type == IFLA_VLAN_PROTOCOL && length >= 2)
      data.vlan_protocol = ntohs(mnl_attr_get_u16(attr)) == 0x88a8 ? "802.1ad" : "802.1q";
    if (kind == "vxlan") {
      if (type == IFLA_VXLAN_ID) data.vxlan_id = TRY(attr_u32(attr));
      if (type == IFLA_VXLAN_PORT && length >= 2) data.vxlan_port = ntohs(mnl_attr_get_u16(attr));
      if (type == IFLA_VXLAN_LOCAL) data.vxlan_local = TRY(attr_ip(attr, AF_INET));
      if (type == IFLA_VXLAN_LOCAL6) data.vxlan_local = TRY(attr_ip(attr, AF_INET6));
      if (type == IFLA_VXLAN_GROUP) data.vxlan_remote = TRY(attr_ip(attr, AF_INET));
      if (type == IFLA_VXLAN_GROUP6) data.vxlan_remote = TRY(attr_ip(attr, AF_INET6));
    }
    if (kind == "macvlan" && type == IFLA_MACVLAN_MODE) data.macvlan_mode = TRY(attr_u32(attr));
    if (kind == "bond" && type == IFLA_BOND_MODE && length >= 1)
      data.bond_mode = mnl_attr_get_u8(attr);
    return ok();
  });
}

Status parse_link_attr(const nlattr* attr, Link& link) {
  switch (mnl_attr_get_type(attr)) {
    case IFLA_IFNAME:
      link.name = TRY(attr_string(attr));
      break;
    case IFLA_MTU:
      link.mtu = TRY(attr_u32(attr));
      break;
    case IFLA_MASTER:
      link.master = static_cast<int>(TRY(attr_u32(attr)));
      break;
    case IFLA_LINK:
      link.parent = static_cast<int>(TRY(attr_u32(attr)));
      break;
    case IFLA_LINK_NETNSID:
      link.parent_in_other_netns = true;
      break;
    case IFLA_OPERSTATE:
      if (mnl_attr_get_payload_len(attr) >= 1) link.operstate = mnl_attr_get_u8(attr);
      break;
    case IFLA_ADDRESS:
      link.mac = format_mac(static_cast<const uint8_t*>(mnl_attr_get_payload(attr)),
                            mnl_attr_get_payload_len(attr));
      break;
    case IFLA_PROP_LIST:
      return parse_nested(attr, [&](const nlattr* prop) -> Status {
        if (mnl_attr_get_type(prop) == IFLA_ALT_IFNAME)
          link.altnames.push_back(TRY(attr_string(prop)));
        return ok();
      });
    case IFLA_LINKINFO: {
      const nlattr* data = nullptr;
      TRY(parse_nested(attr, [&](const nlattr* info) -> Status {
        if (mnl_attr_get_type(info) == IFLA_INFO_KIND) link.kind = TRY(attr_string(info));
        if (mnl_attr_get_type(info) == IFLA_INFO_DATA) data = info;
        return ok();
      }));
      if (data) TRY(parse_kind_data(link.kind, data, link.data));
      break;
    }
    default:
      break;
  }
  return ok();
}

}  // namespace

bool Link::up() const {
  return flags & IFF_UP;
}

bool LinkUpdate::empty() const {
  return !up && !mtu && !mac && !master && data == LinkKindData{};
}

std::string format_mac(const uint8_t* bytes, size_t length) {
  std::string out;
  char part[4];
  for (size_t i = 0; i < length; ++i) {
    std::snprintf(part, sizeof part, i ? ":%02x" : "%02x", bytes[i]);
    out += part;
  }
  return out;
}

Result<std::vector<uint8_t>> parse_mac(const std::string& text) {
  std::vector<uint8_t> bytes;
  size_t position = 0;
  while (position < text.size()) {
    unsigned value = 0;
    int consumed = 0;
    if (std::sscanf(text.c_str() + position, "%2x%n", &value, &consumed) != 1 || consumed != 2)
      return fail(ErrorCode::invalid_input, "'{}' is not a MAC address (aa:bb:cc:dd:ee:ff)", text);
    bytes.push_back(static_cast<uint8_t>(value));
    position += 2;
    if (position < text.size() && text[position++] != ':')
      return fail(ErrorCode::invalid_input, "'{}' is not a MAC address (aa:bb:cc:dd:ee:ff)", text);
  }
  if (bytes.size() != 6)
    return fail(ErrorCode::invalid_input, "'{}' is not a 6-byte MAC address", text);
  return bytes;
}

Message build_link_dump() {
  Message message(RTM_GETLINK, NLM_F_DUMP);
  auto* info = message.put_extra_header<ifinfomsg>();
  info->ifi_family = AF_UNSPEC;
  message.put_u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  return message;
}

Message build_link_create(const LinkCreate& link) {
  Message message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  message.put_extra_header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  message.put_string(IFLA_IFNAME, link.name);
  if (link.mtu) message.put_u32(IFLA_MTU, *link.mtu);
  if (link.mac) put_mac(message, *link.mac);
  if (link.parent && link.kind != "vxlan")
    message.put_u32(IFLA_LINK, static_cast<uint32_t>(link.parent));
  auto* info = message.begin_nested(IFLA_LINKINFO);
  message.put_string(IFLA_INFO_KIND, link.kind);
  if (link.kind == "veth") {
    auto* data = message.begin_nested(IFLA_INFO_DATA);
    auto* peer = message.begin_nested(VETH_INFO_PEER);
    message.put_extra_header<ifinfomsg>()->ifi_family = AF_UNSPEC;
    message.put_string(IFLA_IFNAME, link.peer_name);
    message.end_nested(peer);
    message.end_nested(data);
  } else {
    put_kind_data(message, link.kind, link.data, link.kind == "vxlan" ? link.parent : 0);
  }
  message.end_nested(info);
  return message;
}

Message build_link_update(int index, const LinkUpdate& update) {
  Message message(RTM_NEWLINK, 0);
  auto* info = message.put_extra_header<ifinfomsg>();
  info->ifi_family = AF_UNSPEC;
  info->ifi_index = index;
  if (update.up) {
    info->ifi_change = IFF_UP;
    info->ifi_flags = *update.up ? IFF_UP : 0;
  }
  if (update.mtu) message.put_u32(IFLA_MTU, *update.mtu);
  if (update.mac) put_mac(message, *update.mac);
  if (update.master) message.put_u32(IFLA_MASTER, static_cast<uint32_t>(*update.master));
  if (!(update.data == LinkKindData{})) {
    auto* linkinfo = message.begin_nested(IFLA_LINKINFO);
    message.put_string(IFLA_INFO_KIND, update.kind);
    put_kind_data(message, update.kind, update.data);
    message.end_nested(linkinfo);
  }
  return message;
}

Message build_link_delete(int index) {
  Message message(RTM_DELLINK, 0);
  auto* info = message.put_extra_header<ifinfomsg>();
  info->ifi_family = AF_UNSPEC;
  info->ifi_index = index;
  return message;
}

Message build_link_altname(int index, const std::string& altname, bool add) {
  Message message(add ? RTM_NEWLINKPROP : RTM_DELLINKPROP, add ? NLM_F_CREATE | NLM_F_EXCL : 0);
  auto* info = message.put_extra_header<ifinfomsg>();
  info->ifi_family = AF_UNSPEC;
  info->ifi_index = index;
  auto* list = message.begin_nested(IFLA_PROP_LIST);
  message.put_string(IFLA_ALT_IFNAME, altname);
  message.end_nested(list);
  return message;
}

Result<Link> parse_link(const nlmsghdr& nlh) {
  if (nlh.nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(&nlh) < sizeof(ifinfomsg))
    return fail(ErrorCode::kernel, "unexpected netlink message type {} in link dump",
                nlh.nlmsg_type);
  const auto* info = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(&nlh));
  Link link;
  link.index = info->ifi_index;
  link.flags = info->ifi_flags;
  link.device_type = info->ifi_type;
  TRY(parse_attributes(nlh, sizeof(ifinfomsg),
                       [&](const nlattr* attr) { return parse_link_attr(attr, link); }));
  return link;
}

Message build_address_dump() {
  Message message(RTM_GETADDR, NLM_F_DUMP);
  message.put_extra_header<ifaddrmsg>()->ifa_family = AF_UNSPEC;
  return message;
}

static Message build_address(const Address& address, uint16_t type, uint16_t flags) {
  Message message(type, flags);
  auto* header = message.put_extra_header<ifaddrmsg>();
  header->ifa_family = static_cast<uint8_t>(address.ip.family);
  header->ifa_prefixlen = address.prefix;
  header->ifa_index = static_cast<uint32_t>(address.index);
  header->ifa_scope = address.scope;
  message.put_bytes(IFA_LOCAL, address.ip.bytes.data(), address.ip.length());
  message.put_bytes(IFA_ADDRESS, address.ip.bytes.data(), address.ip.length());
  if (type == RTM_NEWADDR) {
    ifa_cacheinfo cache{};
    cache.ifa_prefered = address.preferred_lifetime;
    cache.ifa_valid = address.valid_lifetime;
    message.put_bytes(IFA_CACHEINFO, &cache, sizeof cache);
    if (address.ip.family == AF_INET && address.prefix < 31) {
      auto broadcast = address.ip;
      for (int bit = address.prefix; bit < 32; ++bit) broadcast.bytes[bit / 8] |= 0x80 >> (bit % 8);
      message.put_bytes(IFA_BROADCAST, broadcast.bytes.data(), 4);
    }
  }
  return message;
}

Message build_address_add(const Address& address) {
  return build_address(address, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
}

Message build_address_delete(const Address& address) {
  return build_address(address, RTM_DELADDR, 0);
}

Result<Address> parse_address(const nlmsghdr& nlh) {
  if (nlh.nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len(&nlh) < sizeof(ifaddrmsg))
    return fail(ErrorCode::kernel, "unexpected netlink message type {} in address dump",
                nlh.nlmsg_type);
  const auto* header = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(&nlh));
  Address address;
  address.index = static_cast<int>(header->ifa_index);
  address.prefix = header->ifa_prefixlen;
  address.scope = header->ifa_scope;
  address.flags = header->ifa_flags;
  std::optional<IpAddress> local, peer;
  TRY(parse_attributes(nlh, sizeof(ifaddrmsg), [&](const nlattr* attr) -> Status {
    switch (mnl_attr_get_type(attr)) {
      case IFA_LOCAL:
        local = TRY(attr_ip(attr, header->ifa_family));
        break;
      case IFA_ADDRESS:
        peer = TRY(attr_ip(attr, header->ifa_family));
        break;
      case IFA_FLAGS:
        address.flags = TRY(attr_u32(attr));
        break;
      case IFA_CACHEINFO:
        if (mnl_attr_get_payload_len(attr) >= sizeof(ifa_cacheinfo)) {
          const auto* cache = static_cast<const ifa_cacheinfo*>(mnl_attr_get_payload(attr));
          address.preferred_lifetime = cache->ifa_prefered;
          address.valid_lifetime = cache->ifa_valid;
        }
        break;
      default:
        break;
    }
    return ok();
  }));
  if (!local && !peer) return fail(ErrorCode::kernel, "address message without an address");
  address.ip = local ? *local : *peer;
  return address;
}

Message build_route_dump(int family) {
  Message message(RTM_GETROUTE, NLM_F_DUMP);
  message.put_extra_header<rtmsg>()->rtm_family = static_cast<uint8_t>(family);
  return message;
}

static Message build_route(const Route& route, uint16_t type, uint16_t flags) {
  Message message(type, flags);
  auto* header = message.put_extra_header<rtmsg>();
  header->rtm_family = static_cast<uint8_t>(route.family);
  header->rtm_dst_len = route.destination.length;
  header->rtm_table =
      route.table < 256 ? static_cast<uint8_t>(route.table) : static_cast<uint8_t>(RT_TABLE_UNSPEC);
  header->rtm_protocol = route.protocol;
  header->rtm_scope = route.scope;
  header->rtm_type = route.type;
  message.put_u32(RTA_TABLE, route.table);
  if (route.destination.length > 0)
    message.put_bytes(RTA_DST, route.destination.address.bytes.data(),
                      route.destination.address.length());
  if (route.gateway)
    message.put_bytes(RTA_GATEWAY, route.gateway->bytes.data(), route.gateway->length());
  if (route.output_index) message.put_u32(RTA_OIF, static_cast<uint32_t>(route.output_index));
  if (route.metric) message.put_u32(RTA_PRIORITY, route.metric);
  return message;
}

Message build_route_replace(const Route& route) {
  return build_route(route, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
}

Message build_route_delete(const Route& route) {
  Route key = route;
  key.scope = RT_SCOPE_NOWHERE;  // any scope
  key.protocol = RTPROT_UNSPEC;  // whoever added it (boot, static, dhcp, ...)
  return build_route(key, RTM_DELROUTE, 0);
}

Result<Route> parse_route(const nlmsghdr& nlh) {
  if (nlh.nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(&nlh) < sizeof(rtmsg))
    return fail(ErrorCode::kernel, "unexpected netlink message type {} in route dump",
                nlh.nlmsg_type);
  const auto* header = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(&nlh));
  Route route;
  route.family = header->rtm_family;
  route.destination.address.family = header->rtm_family;
  route.destination.length = header->rtm_dst_len;
  route.table = header->rtm_table;
  route.scope = header->rtm_scope;
  route.type = header->rtm_type;
  route.protocol = header->rtm_protocol;
  TRY(parse_attributes(nlh, sizeof(rtmsg), [&](const nlattr* attr) -> Status {
    switch (mnl_attr_get_type(attr)) {
      case RTA_DST:
        route.destination.address = TRY(attr_ip(attr, header->rtm_family));
        break;
      case RTA_GATEWAY:
        route.gateway = TRY(attr_ip(attr, header->rtm_family));
        break;
      case RTA_OIF:
        route.output_index = static_cast<int>(TRY(attr_u32(attr)));
        break;
      case RTA_PRIORITY:
        route.metric = TRY(attr_u32(attr));
        break;
      case RTA_TABLE:
        route.table = TRY(attr_u32(attr));
        break;
      default:
        break;
    }
    return ok();
  }));
  return route;
}

}  // namespace opdbus::netlink
