// Unit tests for src/proto/netlink without a socket: IP address and prefix values, and
// rtnetlink requests built by the builders and read back by the dump parsers.
#include <gtest/gtest.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "proto/netlink/generic.h"
#include "proto/netlink/ip_address.h"
#include "proto/netlink/message.h"
#include "proto/netlink/route.h"

namespace opdbus::netlink {
namespace {

IpAddress ip(const char* text) {
  auto parsed = IpAddress::parse(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed.value_or(IpAddress{});
}

std::string prefix_text(const char* text, int default_family = 0) {
  auto prefix = Prefix::parse(text, default_family);
  return prefix ? prefix->to_string() : "error: " + prefix.error().message;
}

// The attributes of type `type` directly inside `nest`, in order.
std::vector<const nlattr*> nested_of_type(const nlattr* nest, uint16_t type) {
  std::vector<const nlattr*> out;
  for_each_nested(nest, [&](const nlattr* attr) {
    if (mnl_attr_get_type(attr) == type) out.push_back(attr);
  });
  return out;
}

const nlattr* top_level_attribute(const Message& message, uint16_t type) {
  const nlattr* found = nullptr;
  for_each_attribute(message.header(), sizeof(ifinfomsg), [&](const nlattr* attr) {
    if (mnl_attr_get_type(attr) == type) found = attr;
  });
  return found;
}

Link round_trip(const LinkCreate& create) {
  Message message = build_link_create(create);
  EXPECT_FALSE(message.overflowed());
  auto link = parse_link(*message.header());
  EXPECT_TRUE(link.has_value()) << link.error().describe();
  return link.value_or(Link{});
}

TEST(IpAddressTest, ParsesIpv4) {
  auto address = IpAddress::parse("192.0.2.10");
  ASSERT_TRUE(address.has_value());
  EXPECT_EQ(address->family, AF_INET);
  EXPECT_EQ(address->length(), 4u);
  EXPECT_EQ(address->bytes[0], 192);
  EXPECT_EQ(address->bytes[3], 10);
  EXPECT_EQ(address->to_string(), "192.0.2.10");
}

TEST(IpAddressTest, Ipv6IsFormattedCanonically) {
  auto address = IpAddress::parse("2001:DB8:0:0:0::0001");
  ASSERT_TRUE(address.has_value());
  EXPECT_EQ(address->family, AF_INET6);
  EXPECT_EQ(address->length(), 16u);
  EXPECT_EQ(address->to_string(), "2001:db8::1");
  EXPECT_EQ(*address, ip("2001:db8::1"));
}

TEST(IpAddressTest, RejectsGarbage) {
  for (const char* text : {"", "10.0.0", "10.0.0.256", "hello", "2001:db8:::1", "10.0.0.1/24"}) {
    auto address = IpAddress::parse(text);
    ASSERT_FALSE(address.has_value()) << text;
    EXPECT_EQ(address.error().code, ErrorCode::invalid_input);
  }
}

TEST(IpAddressTest, FromBytesChecksLength) {
  const uint8_t bytes[4] = {10, 1, 2, 3};
  auto address = IpAddress::from_bytes(AF_INET, bytes, 4);
  ASSERT_TRUE(address.has_value());
  EXPECT_EQ(address->to_string(), "10.1.2.3");
  EXPECT_FALSE(IpAddress::from_bytes(AF_INET6, bytes, 4).has_value());
  EXPECT_FALSE(IpAddress::from_bytes(AF_INET, bytes, 3).has_value());
}

TEST(IpAddressTest, Ipv6LinkLocal) {
  EXPECT_TRUE(ip("fe80::1").is_ipv6_link_local());
  EXPECT_TRUE(ip("febf:ffff::1").is_ipv6_link_local());
  EXPECT_FALSE(ip("fec0::1").is_ipv6_link_local());
  EXPECT_FALSE(ip("2001:db8::1").is_ipv6_link_local());
  EXPECT_FALSE(ip("169.254.0.1").is_ipv6_link_local());
}

TEST(PrefixTest, ClearsHostBits) {
  EXPECT_EQ(prefix_text("10.1.2.3/8"), "10.0.0.0/8");
  EXPECT_EQ(prefix_text("192.168.7.255/23"), "192.168.6.0/23");
  EXPECT_EQ(prefix_text("2001:db8:1:2::5/32"), "2001:db8::/32");
  EXPECT_EQ(Prefix::parse("10.1.2.3/8").value(), Prefix::parse("10.0.0.0/8").value());
}

TEST(PrefixTest, BareAddressIsAHostPrefix) {
  auto prefix = Prefix::parse("10.1.2.3");
  ASSERT_TRUE(prefix.has_value());
  EXPECT_EQ(prefix->length, 32);
  EXPECT_EQ(prefix->to_string(), "10.1.2.3/32");
  EXPECT_EQ(prefix_text("2001:db8::1"), "2001:db8::1/128");
}

TEST(PrefixTest, DefaultFollowsTheFamily) {
  EXPECT_EQ(prefix_text("default"), "0.0.0.0/0");
  EXPECT_EQ(prefix_text("default", AF_INET6), "::/0");
  EXPECT_EQ(prefix_text("0.0.0.0/0"), "0.0.0.0/0");
  EXPECT_EQ(prefix_text("::/0"), "::/0");
}

TEST(PrefixTest, RejectsBadLengths) {
  for (const char* text :
       {"10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "10.0.0.0/8x", "10.0.0.0/-1"}) {
    auto prefix = Prefix::parse(text);
    ASSERT_FALSE(prefix.has_value()) << text;
    EXPECT_EQ(prefix.error().code, ErrorCode::invalid_input);
    EXPECT_NE(prefix.error().message.find("invalid prefix length"), std::string::npos)
        << prefix.error().message;
  }
  auto v4 = Prefix::parse("10.0.0.0/33");
  EXPECT_NE(v4.error().message.find("(0-32)"), std::string::npos);
  EXPECT_FALSE(Prefix::parse("nonsense/8").has_value());
}

TEST(MacTest, ParseAndFormat) {
  auto bytes = parse_mac("02:AB:cd:00:11:ff");
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(*bytes, (std::vector<uint8_t>{0x02, 0xab, 0xcd, 0x00, 0x11, 0xff}));
  EXPECT_EQ(format_mac(bytes->data(), bytes->size()), "02:ab:cd:00:11:ff");
  EXPECT_EQ(format_mac(nullptr, 0), "");
}

TEST(MacTest, RejectsMalformed) {
  for (const char* text : {"", "02:ab:cd:00:11", "02:ab:cd:00:11:ff:00", "02-ab-cd-00-11-ff",
                           "0g:ab:cd:00:11:ff", "2:ab:cd:00:11:ff"}) {
    auto bytes = parse_mac(text);
    ASSERT_FALSE(bytes.has_value()) << text;
    EXPECT_EQ(bytes.error().code, ErrorCode::invalid_input);
  }
}

TEST(MessageTest, OverflowIsRecordedInsteadOfWritten) {
  Message message(RTM_NEWLINK, 0);
  message.put_extra_header<ifinfomsg>();
  const std::string chunk(500, 'x');  // 508 bytes as an attribute
  for (int i = 0; i < 3; ++i) message.put_string(IFLA_IFALIAS, chunk);
  EXPECT_FALSE(message.overflowed());
  const auto length_before = message.header()->nlmsg_len;
  EXPECT_EQ(length_before, NLMSG_HDRLEN + sizeof(ifinfomsg) + 3 * 508);
  message.put_string(IFLA_IFALIAS, chunk);
  EXPECT_TRUE(message.overflowed());
  EXPECT_EQ(message.header()->nlmsg_len, length_before);
  message.put_u32(IFLA_MTU, 1500);  // fits, but the message stays marked
  EXPECT_TRUE(message.overflowed());
  EXPECT_LE(message.header()->nlmsg_len, Message::kCapacity);
  EXPECT_EQ(message.bytes().size(), message.header()->nlmsg_len);
}

TEST(MessageTest, OversizedAttributeOverflows) {
  Message message(RTM_NEWLINK, 0);
  std::vector<uint8_t> blob(Message::kCapacity + 1, 0xaa);
  message.put_bytes(IFLA_IFALIAS, blob.data(), blob.size());
  EXPECT_TRUE(message.overflowed());
  EXPECT_EQ(message.header()->nlmsg_len, NLMSG_HDRLEN);
}

TEST(LinkMessageTest, BridgeRoundTrip) {
  LinkCreate create;
  create.name = "br0";
  create.kind = "bridge";
  create.mtu = 1400;
  create.mac = "02:00:00:aa:bb:cc";
  create.data.bridge_stp = true;
  Message message = build_link_create(create);
  EXPECT_EQ(message.header()->nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(message.header()->nlmsg_flags, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL);
  Link link = round_trip(create);
  EXPECT_EQ(link.name, "br0");
  EXPECT_EQ(link.kind, "bridge");
  EXPECT_EQ(link.mtu, 1400u);
  EXPECT_EQ(link.mac, "02:00:00:aa:bb:cc");
  EXPECT_EQ(link.data.bridge_stp, true);
  EXPECT_EQ(link.parent, 0);
}

TEST(LinkMessageTest, BridgeStpOff) {
  LinkCreate create;
  create.name = "br1";
  create.kind = "bridge";
  create.data.bridge_stp = false;
  EXPECT_EQ(round_trip(create).data.bridge_stp, false);
}

TEST(LinkMessageTest, VethCarriesItsPeer) {
  LinkCreate create;
  create.name = "veth0";
  create.kind = "veth";
  create.peer_name = "veth1";
  Message message = build_link_create(create);
  Link link = round_trip(create);
  EXPECT_EQ(link.name, "veth0");
  EXPECT_EQ(link.kind, "veth");
  EXPECT_EQ(link.data, LinkKindData{});

  const nlattr* linkinfo = top_level_attribute(message, IFLA_LINKINFO);
  ASSERT_NE(linkinfo, nullptr);
  auto data = nested_of_type(linkinfo, IFLA_INFO_DATA);
  ASSERT_EQ(data.size(), 1u);
  auto peers = nested_of_type(data[0], VETH_INFO_PEER);
  ASSERT_EQ(peers.size(), 1u);
  // VETH_INFO_PEER holds an ifinfomsg followed by the peer's attributes.
  ASSERT_GE(mnl_attr_get_payload_len(peers[0]), NLMSG_ALIGN(sizeof(ifinfomsg)) + NLA_HDRLEN);
  const auto* peer_attr = reinterpret_cast<const nlattr*>(
      static_cast<const uint8_t*>(mnl_attr_get_payload(peers[0])) + NLMSG_ALIGN(sizeof(ifinfomsg)));
  EXPECT_EQ(mnl_attr_get_type(peer_attr), IFLA_IFNAME);
  EXPECT_STREQ(mnl_attr_get_str(peer_attr), "veth1");
}

TEST(LinkMessageTest, VlanRoundTrip) {
  LinkCreate create;
  create.name = "eth0.10";
  create.kind = "vlan";
  create.parent = 3;
  create.data.vlan_id = 10;
  create.data.vlan_protocol = "802.1ad";
  Link link = round_trip(create);
  EXPECT_EQ(link.name, "eth0.10");
  EXPECT_EQ(link.kind, "vlan");
  EXPECT_EQ(link.parent, 3);
  EXPECT_EQ(link.data.vlan_id, 10);
  EXPECT_EQ(link.data.vlan_protocol, "802.1ad");

  create.data.vlan_protocol = "802.1q";
  EXPECT_EQ(round_trip(create).data.vlan_protocol, "802.1q");
}

TEST(LinkMessageTest, VxlanRoundTrip) {
  LinkCreate create;
  create.name = "vx0";
  create.kind = "vxlan";
  create.data.vxlan_id = 42;
  create.data.vxlan_port = 4789;
  create.data.vxlan_local = ip("192.0.2.1");
  create.data.vxlan_remote = ip("192.0.2.2");
  Link link = round_trip(create);
  EXPECT_EQ(link.name, "vx0");
  EXPECT_EQ(link.kind, "vxlan");
  EXPECT_EQ(link.data, create.data);

  create.data.vxlan_local = ip("2001:db8::1");
  create.data.vxlan_remote = ip("ff05::100");
  EXPECT_EQ(round_trip(create).data, create.data);
}

TEST(LinkMessageTest, VxlanBaseSharesTheInfoDataNest) {
  // The kernel keeps only the last IFLA_INFO_DATA of a request, so IFLA_VXLAN_LINK must sit in
  // the same nest as the VNI.
  LinkCreate create;
  create.name = "vx0";
  create.kind = "vxlan";
  create.parent = 7;
  create.data.vxlan_id = 42;
  Message message = build_link_create(create);
  EXPECT_EQ(top_level_attribute(message, IFLA_LINK), nullptr)
      << "vxlan names its base in IFLA_VXLAN_LINK";
  const nlattr* linkinfo = top_level_attribute(message, IFLA_LINKINFO);
  ASSERT_NE(linkinfo, nullptr);
  auto data = nested_of_type(linkinfo, IFLA_INFO_DATA);
  ASSERT_EQ(data.size(), 1u);
  auto vxlan_link = nested_of_type(data[0], IFLA_VXLAN_LINK);
  ASSERT_EQ(vxlan_link.size(), 1u);
  EXPECT_EQ(mnl_attr_get_u32(vxlan_link[0]), 7u);
  EXPECT_EQ(nested_of_type(data[0], IFLA_VXLAN_ID).size(), 1u);
}

TEST(LinkMessageTest, MacvlanRoundTrip) {
  LinkCreate create;
  create.name = "mv0";
  create.kind = "macvlan";
  create.parent = 2;
  create.data.macvlan_mode = MACVLAN_MODE_BRIDGE;
  Link link = round_trip(create);
  EXPECT_EQ(link.kind, "macvlan");
  EXPECT_EQ(link.parent, 2);
  EXPECT_EQ(link.data.macvlan_mode, static_cast<uint32_t>(MACVLAN_MODE_BRIDGE));
}

TEST(LinkMessageTest, BondRoundTrip) {
  LinkCreate create;
  create.name = "bond0";
  create.kind = "bond";
  create.data.bond_mode = 4;
  Link link = round_trip(create);
  EXPECT_EQ(link.name, "bond0");
  EXPECT_EQ(link.kind, "bond");
  EXPECT_EQ(link.data.bond_mode, 4);
}

TEST(LinkMessageTest, UpdateCarriesOnlyWhatIsSet) {
  LinkUpdate update;
  EXPECT_TRUE(update.empty());
  update.mtu = 9000;
  update.master = 0;
  update.up = true;
  EXPECT_FALSE(update.empty());
  Message message = build_link_update(12, update);
  auto link = parse_link(*message.header());
  ASSERT_TRUE(link.has_value());
  EXPECT_EQ(link->index, 12);
  EXPECT_TRUE(link->up());
  EXPECT_EQ(link->mtu, 9000u);
  EXPECT_EQ(link->master, 0);
  ASSERT_NE(top_level_attribute(message, IFLA_MASTER), nullptr) << "master 0 releases the link";
  EXPECT_EQ(top_level_attribute(message, IFLA_LINKINFO), nullptr);
}

TEST(LinkMessageTest, ParseLinkRejectsOtherMessageTypes) {
  Message deletion = build_link_delete(4);
  auto link = parse_link(*deletion.header());
  ASSERT_FALSE(link.has_value());
  EXPECT_EQ(link.error().code, ErrorCode::kernel);
  Address address;
  address.ip = ip("10.0.0.1");
  address.prefix = 24;
  Message address_message = build_address_add(address);
  EXPECT_FALSE(parse_link(*address_message.header()).has_value());
  Message short_message(RTM_NEWLINK, 0);  // no ifinfomsg
  EXPECT_FALSE(parse_link(*short_message.header()).has_value());
}

// A copy of `message` cut to exactly nlmsg_len bytes, so reading past the end is detectable.
std::vector<uint8_t> exact_copy(const Message& message) {
  auto bytes = message.bytes();
  return {bytes.begin(), bytes.end()};
}

TEST(LinkMessageTest, AttributeLongerThanTheMessageIsNotFollowed) {
  LinkCreate create;
  create.name = "br0";
  create.kind = "bridge";
  std::vector<uint8_t> bytes = exact_copy(build_link_create(create));
  nlattr bogus{};
  bogus.nla_len = 1000;
  bogus.nla_type = IFLA_MTU;
  const auto* raw = reinterpret_cast<const uint8_t*>(&bogus);
  bytes.insert(bytes.end(), raw, raw + sizeof bogus);
  reinterpret_cast<nlmsghdr*>(bytes.data())->nlmsg_len = static_cast<uint32_t>(bytes.size());
  auto link = parse_link(*reinterpret_cast<const nlmsghdr*>(bytes.data()));
  ASSERT_TRUE(link.has_value()) << link.error().describe();
  EXPECT_EQ(link->name, "br0");
  EXPECT_EQ(link->kind, "bridge");
  EXPECT_EQ(link->mtu, 0u);
}

TEST(LinkMessageTest, MessageCutInsideANestIsNotFollowed) {
  LinkCreate create;
  create.name = "eth0.10";
  create.kind = "vlan";
  create.parent = 3;
  create.data.vlan_id = 10;
  std::vector<uint8_t> bytes = exact_copy(build_link_create(create));
  bytes.resize(bytes.size() - 8);  // the end of IFLA_LINKINFO is cut off
  reinterpret_cast<nlmsghdr*>(bytes.data())->nlmsg_len = static_cast<uint32_t>(bytes.size());
  auto link = parse_link(*reinterpret_cast<const nlmsghdr*>(bytes.data()));
  ASSERT_TRUE(link.has_value()) << link.error().describe();
  EXPECT_EQ(link->name, "eth0.10");
  EXPECT_EQ(link->parent, 3);
  EXPECT_EQ(link->kind, "");
  EXPECT_FALSE(link->data.vlan_id.has_value());
}

TEST(LinkMessageTest, ShortU32AttributeIsAnError) {
  Message message(RTM_NEWLINK, 0);
  message.put_extra_header<ifinfomsg>();
  message.put_u16(IFLA_MTU, 1500);
  auto link = parse_link(*message.header());
  ASSERT_FALSE(link.has_value());
  EXPECT_EQ(link.error().code, ErrorCode::kernel);
  EXPECT_NE(link.error().message.find("malformed u32"), std::string::npos) << link.error().message;
}

TEST(AddressMessageTest, Ipv4RoundTrip) {
  Address address;
  address.index = 5;
  address.ip = ip("10.1.2.3");
  address.prefix = 24;
  address.preferred_lifetime = 300;
  address.valid_lifetime = 600;
  Message message = build_address_add(address);
  EXPECT_EQ(message.header()->nlmsg_type, RTM_NEWADDR);
  auto parsed = parse_address(*message.header());
  ASSERT_TRUE(parsed.has_value()) << parsed.error().describe();
  EXPECT_EQ(parsed->index, 5);
  EXPECT_EQ(parsed->ip, address.ip);
  EXPECT_EQ(parsed->prefix, 24);
  EXPECT_EQ(parsed->preferred_lifetime, 300u);
  EXPECT_EQ(parsed->valid_lifetime, 600u);
}

TEST(AddressMessageTest, Ipv6ForeverRoundTrip) {
  Address address;
  address.index = 2;
  address.ip = ip("2001:db8::10");
  address.prefix = 64;
  Message message = build_address_add(address);
  auto parsed = parse_address(*message.header());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->ip.to_string(), "2001:db8::10");
  EXPECT_EQ(parsed->prefix, 64);
  EXPECT_EQ(parsed->preferred_lifetime, UINT32_MAX);
  EXPECT_EQ(parsed->valid_lifetime, UINT32_MAX);
}

TEST(AddressMessageTest, ParseAddressRejectsOtherMessageTypes) {
  Address address;
  address.ip = ip("10.0.0.1");
  address.prefix = 8;
  Message deletion = build_address_delete(address);
  auto parsed = parse_address(*deletion.header());
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().code, ErrorCode::kernel);
}

TEST(RouteMessageTest, UnicastRoundTrip) {
  Route route;
  route.family = AF_INET;
  route.destination = Prefix::parse("10.9.0.0/16").value();
  route.gateway = ip("10.0.0.1");
  route.output_index = 4;
  route.metric = 100;
  route.table = 1000;  // beyond rtm_table: only RTA_TABLE can carry it
  Message message = build_route_replace(route);
  EXPECT_EQ(message.header()->nlmsg_type, RTM_NEWROUTE);
  auto parsed = parse_route(*message.header());
  ASSERT_TRUE(parsed.has_value()) << parsed.error().describe();
  EXPECT_EQ(parsed->family, AF_INET);
  EXPECT_EQ(parsed->destination, route.destination);
  EXPECT_EQ(parsed->destination.to_string(), "10.9.0.0/16");
  EXPECT_EQ(parsed->gateway, route.gateway);
  EXPECT_EQ(parsed->output_index, 4);
  EXPECT_EQ(parsed->metric, 100u);
  EXPECT_EQ(parsed->table, 1000u);
  EXPECT_EQ(parsed->type, RTN_UNICAST);
  EXPECT_EQ(parsed->protocol, RTPROT_STATIC);
}

TEST(RouteMessageTest, DefaultIpv6AndBlackholeRoundTrip) {
  Route route;
  route.family = AF_INET6;
  route.destination = Prefix::parse("default", AF_INET6).value();
  route.gateway = ip("fe80::1");
  route.output_index = 2;
  route.metric = 1024;
  auto parsed = parse_route(*build_route_replace(route).header());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->destination.to_string(), "::/0");
  EXPECT_EQ(parsed->gateway->to_string(), "fe80::1");
  EXPECT_EQ(parsed->metric, 1024u);
  EXPECT_EQ(parsed->table, 254u);

  Route blackhole;
  blackhole.family = AF_INET;
  blackhole.destination = Prefix::parse("198.51.100.0/24").value();
  blackhole.type = RTN_BLACKHOLE;
  parsed = parse_route(*build_route_replace(blackhole).header());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->type, RTN_BLACKHOLE);
  EXPECT_FALSE(parsed->gateway.has_value());
  EXPECT_EQ(parsed->output_index, 0);
  EXPECT_EQ(parsed->metric, 0u);
}

TEST(RouteMessageTest, ParseRouteRejectsOtherMessageTypes) {
  Route route;
  route.family = AF_INET;
  route.destination = Prefix::parse("10.0.0.0/8").value();
  auto parsed = parse_route(*build_route_delete(route).header());
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().code, ErrorCode::kernel);
}

// Needs no privilege: the family table is readable by anyone.
TEST(GenericNetlink, FindsFamiliesByName) {
  auto socket = Socket::open(0, NETLINK_GENERIC);
  ASSERT_TRUE(socket) << socket.error().describe();
  auto control = generic_family_id(*socket, "nlctrl");
  ASSERT_TRUE(control) << control.error().describe();
  EXPECT_EQ(*control, std::optional<uint16_t>(GENL_ID_CTRL));
  auto missing = generic_family_id(*socket, "no-such-family");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

}  // namespace
}  // namespace opdbus::netlink
