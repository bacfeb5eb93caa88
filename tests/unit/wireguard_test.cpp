// WireGuard's protocol layer: keys (RFC 7748 X25519 vector, base64/hex, key files created 0600
// and reused), endpoints, UAPI requests and answers in the cross-platform format, and the
// kernel's generic-netlink SET_DEVICE requests parsed back attribute by attribute, split over
// several messages for many peers. tests/integration/wireguard_uapi.sh drives wireguard-go.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/genetlink.h>
#include <linux/wireguard.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "proto/wireguard/genl.h"
#include "proto/wireguard/uapi.h"

namespace opdbus::wireguard {
namespace {

Key key_of(uint8_t fill) {
  Key key;
  key.bytes.fill(fill);
  return key;
}

TEST(WireguardKey, DerivesThePublicKeyOfRfc7748) {
  auto alice = Key::from_hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  ASSERT_TRUE(alice);
  auto public_key = alice->public_key();
  ASSERT_TRUE(public_key);
  EXPECT_EQ(public_key->hex(), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  auto base64 = public_key->base64();
  EXPECT_EQ(base64.size(), 44U);
  EXPECT_EQ(Key::from_base64(base64)->bytes, public_key->bytes);
}

TEST(WireguardKey, RefusesMalformedKeys) {
  EXPECT_FALSE(Key::from_base64("short="));
  EXPECT_FALSE(Key::from_base64(std::string(43, 'A') + "!"));
  EXPECT_FALSE(Key::from_base64(std::string(44, '*')));
  EXPECT_FALSE(Key::from_hex(std::string(64, 'g')));
  EXPECT_FALSE(Key::from_hex("00"));
  auto a = Key::generate_private();
  auto b = Key::generate_private();
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->bytes, b->bytes);
}

TEST(WireguardKey, KeyFilesAreCreatedPrivateAndReused) {
  auto dir = std::filesystem::temp_directory_path() / ("opdbus-wg-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto file = dir / "wg0.key";
  auto created = load_or_create_private_key(file);
  ASSERT_TRUE(created) << created.error().describe();
  struct stat info {};
  ASSERT_EQ(::stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600U);
  EXPECT_EQ(load_or_create_private_key(file)->bytes, created->bytes);
  std::ofstream(dir / "bad.key") << "not a key\n";
  auto bad = read_key_file(dir / "bad.key");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("bad.key"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(WireguardEndpoint, ParsesAndFormatsBothFamilies) {
  EXPECT_EQ(Endpoint::parse("192.0.2.1:51820")->to_string(), "192.0.2.1:51820");
  EXPECT_EQ(Endpoint::parse("[2001:db8::1]:443")->to_string(), "[2001:db8::1]:443");
  EXPECT_FALSE(Endpoint::parse("192.0.2.1"));
  EXPECT_FALSE(Endpoint::parse("192.0.2.1:0"));
  EXPECT_FALSE(Endpoint::parse("192.0.2.1:70000"));
  EXPECT_FALSE(Endpoint::parse("[2001:db8::1:443"));
  EXPECT_FALSE(Endpoint::parse("host.example:443"));
}

DeviceChange sample_change() {
  DeviceChange change;
  change.private_key = key_of(1);
  change.listen_port = 51820;
  change.replace_peers = true;
  PeerChange peer;
  peer.peer.public_key = key_of(2);
  peer.peer.endpoint = *Endpoint::parse("192.0.2.1:51820");
  peer.peer.persistent_keepalive = 25;
  peer.peer.allowed_ips = {*netlink::Prefix::parse("10.77.0.2/32"),
                           *netlink::Prefix::parse("2001:db8::/64")};
  peer.replace_allowed_ips = true;
  change.peers.push_back(peer);
  PeerChange gone;
  gone.peer.public_key = key_of(3);
  gone.remove = true;
  change.peers.push_back(gone);
  return change;
}

TEST(WireguardUapi, BuildsSetRequests) {
  auto hex = [](uint8_t fill) { return key_of(fill).hex(); };
  EXPECT_EQ(uapi_set_request(sample_change()),
            "set=1\nprivate_key=" + hex(1) +
                "\nlisten_port=51820\nreplace_peers=true\npublic_key=" + hex(2) +
                "\nendpoint=192.0.2.1:51820\npersistent_keepalive_interval=25\n"
                "replace_allowed_ips=true\nallowed_ip=10.77.0.2/32\nallowed_ip=2001:db8::/64\n"
                "public_key=" +
                hex(3) + "\nremove=true\n\n");
}

TEST(WireguardUapi, ParsesGetAnswers) {
  auto answer =
      "private_key=" + key_of(1).hex() +
      "\nlisten_port=51820\nfwmark=7\npublic_key=" + key_of(2).hex() +
      "\npreshared_key=" + Key{}.hex() +
      "\nprotocol_version=1\nendpoint=[2001:db8::1]:443\nlast_handshake_time_sec=1700000000"
      "\nlast_handshake_time_nsec=5\ntx_bytes=100\nrx_bytes=200\n"
      "persistent_keepalive_interval=25\nallowed_ip=10.77.0.2/32\nallowed_ip=10.78.0.0/16"
      "\npublic_key=" +
      key_of(3).hex() + "\npreshared_key=" + key_of(4).hex() + "\nerrno=0\n\n";
  auto device = parse_uapi_device(answer);
  ASSERT_TRUE(device) << device.error().describe();
  EXPECT_EQ(device->private_key, key_of(1));
  EXPECT_EQ(device->listen_port, 51820);
  EXPECT_EQ(device->fwmark, 7U);
  ASSERT_EQ(device->peers.size(), 2U);
  const auto& peer = device->peers[0];
  EXPECT_EQ(peer.public_key, key_of(2));
  EXPECT_FALSE(peer.preshared_key);
  EXPECT_EQ(peer.endpoint->to_string(), "[2001:db8::1]:443");
  EXPECT_EQ(peer.last_handshake_seconds, 1700000000);
  EXPECT_EQ(peer.tx_bytes, 100U);
  EXPECT_EQ(peer.rx_bytes, 200U);
  EXPECT_EQ(peer.persistent_keepalive, 25);
  ASSERT_EQ(peer.allowed_ips.size(), 2U);
  EXPECT_EQ(peer.allowed_ips[1].to_string(), "10.78.0.0/16");
  EXPECT_EQ(device->peers[1].preshared_key, key_of(4));
  EXPECT_FALSE(parse_uapi_device("listen_port=abc\n"));
  EXPECT_FALSE(parse_uapi_device("garbage\n"));
}

TEST(WireguardUapi, AnUnreachableSocketIsAnErrorNamingTheDevice) {
  auto device = UapiClient("/nonexistent/wg9.sock").get();
  ASSERT_FALSE(device);
  EXPECT_NE(device.error().message.find("wg9"), std::string::npos);
}

// The attributes of a nest (or of a message after its genetlink header), by type.
std::multimap<uint16_t, const nlattr*> attributes_of(const uint8_t* begin, const uint8_t* end) {
  std::multimap<uint16_t, const nlattr*> found;
  netlink::for_each_attribute_in(begin, end, [&](const nlattr* attribute) {
    found.emplace(attribute->nla_type & NLA_TYPE_MASK, attribute);
  });
  return found;
}

std::multimap<uint16_t, const nlattr*> nested(const nlattr* attribute) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(attribute);
  return attributes_of(bytes + NLA_HDRLEN, bytes + attribute->nla_len);
}

const uint8_t* payload(const nlattr* attribute) {
  return reinterpret_cast<const uint8_t*>(attribute) + NLA_HDRLEN;
}

std::multimap<uint16_t, const nlattr*> message_attributes(const netlink::Message& message) {
  auto bytes = message.bytes();
  return attributes_of(bytes.data() + NLMSG_HDRLEN + GENL_HDRLEN, bytes.data() + bytes.size());
}

TEST(WireguardGenl, SetDeviceCarriesEverySetting) {
  auto messages = set_device_requests(42, "wg0", sample_change());
  ASSERT_TRUE(messages) << messages.error().describe();
  ASSERT_EQ(messages->size(), 1U);
  const auto& message = messages->front();
  EXPECT_EQ(message.header()->nlmsg_type, 42);
  const auto* genl = reinterpret_cast<const genlmsghdr*>(message.bytes().data() + NLMSG_HDRLEN);
  EXPECT_EQ(genl->cmd, WG_CMD_SET_DEVICE);
  auto device = message_attributes(message);
  EXPECT_STREQ(reinterpret_cast<const char*>(payload(device.find(WGDEVICE_A_IFNAME)->second)),
               "wg0");
  EXPECT_EQ(
      std::memcmp(payload(device.find(WGDEVICE_A_PRIVATE_KEY)->second), key_of(1).bytes.data(), 32),
      0);
  uint32_t flags = 0;
  std::memcpy(&flags, payload(device.find(WGDEVICE_A_FLAGS)->second), 4);
  EXPECT_EQ(flags, WGDEVICE_F_REPLACE_PEERS);
  auto peers = nested(device.find(WGDEVICE_A_PEERS)->second);
  ASSERT_EQ(peers.size(), 2U);
  auto first = nested(peers.begin()->second);
  EXPECT_EQ(
      std::memcmp(payload(first.find(WGPEER_A_PUBLIC_KEY)->second), key_of(2).bytes.data(), 32), 0);
  sockaddr_in endpoint{};
  std::memcpy(&endpoint, payload(first.find(WGPEER_A_ENDPOINT)->second), sizeof endpoint);
  EXPECT_EQ(ntohs(endpoint.sin_port), 51820);
  auto ips = nested(first.find(WGPEER_A_ALLOWEDIPS)->second);
  ASSERT_EQ(ips.size(), 2U);
  auto v6 = nested(std::next(ips.begin())->second);
  EXPECT_EQ(*payload(v6.find(WGALLOWEDIP_A_CIDR_MASK)->second), 64);
  auto second = nested(std::next(peers.begin())->second);
  std::memcpy(&flags, payload(second.find(WGPEER_A_FLAGS)->second), 4);
  EXPECT_EQ(flags, static_cast<uint32_t>(WGPEER_F_REMOVE_ME));
  EXPECT_EQ(second.count(WGPEER_A_ALLOWEDIPS), 0U);
}

TEST(WireguardGenl, ManyPeersAreSplitOverMessages) {
  DeviceChange change;
  change.private_key = key_of(9);
  change.replace_peers = true;
  for (int i = 0; i < 200; ++i) {
    PeerChange peer;
    peer.peer.public_key = key_of(static_cast<uint8_t>(i));
    peer.peer.allowed_ips = {*netlink::Prefix::parse("10.77.0." + std::to_string(i) + "/32")};
    change.peers.push_back(peer);
  }
  auto messages = set_device_requests(42, "wg0", change);
  ASSERT_TRUE(messages);
  ASSERT_GT(messages->size(), 1U);
  size_t peers = 0;
  for (size_t i = 0; i < messages->size(); ++i) {
    const auto& message = (*messages)[i];
    EXPECT_LE(message.header()->nlmsg_len, netlink::Message::kCapacity);
    auto device = message_attributes(message);
    EXPECT_EQ(device.count(WGDEVICE_A_PRIVATE_KEY), i == 0 ? 1U : 0U);
    EXPECT_EQ(device.count(WGDEVICE_A_FLAGS), i == 0 ? 1U : 0U);
    peers += nested(device.find(WGDEVICE_A_PEERS)->second).size();
  }
  EXPECT_EQ(peers, 200U);
  PeerChange huge;
  huge.peer.public_key = key_of(1);
  for (int i = 0; i < 200; ++i)
    huge.peer.allowed_ips.push_back(*netlink::Prefix::parse("10.1." + std::to_string(i) + ".0/24"));
  DeviceChange oversized;
  oversized.peers.push_back(huge);
  EXPECT_FALSE(set_device_requests(42, "wg0", oversized));
}

// A GET_DEVICE reply has SET_DEVICE's attribute layout, so requests parse back as replies.
TEST(WireguardGenl, RepliesParseIntoTheDevice) {
  auto messages = set_device_requests(42, "wg0", sample_change());
  ASSERT_TRUE(messages);
  Device device;
  for (const auto& message : *messages) ASSERT_TRUE(merge_device_reply(*message.header(), device));
  EXPECT_EQ(device.private_key, key_of(1));
  ASSERT_EQ(device.peers.size(), 2U);
  const auto& first = device.peers[0];
  EXPECT_EQ(first.public_key, key_of(2));
  ASSERT_TRUE(first.endpoint);
  EXPECT_EQ(first.endpoint->to_string(), "192.0.2.1:51820");
  EXPECT_EQ(first.persistent_keepalive, 25);
  ASSERT_EQ(first.allowed_ips.size(), 2U);
  EXPECT_EQ(first.allowed_ips[1].to_string(), "2001:db8::/64");
  EXPECT_EQ(device.listen_port, 51820);
}

TEST(WireguardGenl, APeerContinuedInTheNextMessageIsMerged) {
  Device device;
  for (int part = 0; part < 2; ++part) {
    DeviceChange change;
    PeerChange peer;
    peer.peer.public_key = key_of(7);
    peer.peer.allowed_ips = {*netlink::Prefix::parse("10.0." + std::to_string(part) + ".0/24")};
    change.peers.push_back(peer);
    auto messages = set_device_requests(42, "wg0", change);
    ASSERT_TRUE(messages);
    ASSERT_TRUE(merge_device_reply(*messages->front().header(), device));
  }
  ASSERT_EQ(device.peers.size(), 1U);
  ASSERT_EQ(device.peers[0].allowed_ips.size(), 2U);
  EXPECT_EQ(device.peers[0].allowed_ips[1].to_string(), "10.0.1.0/24");
}

TEST(WireguardGenl, AShortKeyInAReplyIsAnError) {
  netlink::Message message(42, 0);
  message.put_extra_header<genlmsghdr>();
  uint8_t short_key[8] = {};
  message.put_bytes(WGDEVICE_A_PRIVATE_KEY, short_key, sizeof short_key);
  Device device;
  EXPECT_FALSE(merge_device_reply(*message.header(), device));
}

}  // namespace
}  // namespace opdbus::wireguard
