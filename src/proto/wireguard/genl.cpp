// WireGuard generic-netlink requests; see genl.h.
#include "proto/wireguard/genl.h"

#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/wireguard.h>
#include <netinet/in.h>

#include <cstring>

namespace opdbus::wireguard {
namespace {

constexpr size_t kAttributeHeader = NLA_HDRLEN;

size_t attribute_size(size_t payload) {
  return NLA_ALIGN(kAttributeHeader + payload);
}

size_t allowed_ip_size(const netlink::Prefix& prefix) {
  return attribute_size(0) + attribute_size(2) + attribute_size(prefix.address.length()) +
         attribute_size(1);
}

// The bytes a peer adds to a message.
size_t peer_size(const PeerChange& change) {
  const auto& peer = change.peer;
  size_t size = attribute_size(0) + attribute_size(32) + attribute_size(4);
  if (peer.preshared_key || change.clear_preshared_key) size += attribute_size(32);
  if (peer.endpoint)
    size += attribute_size(peer.endpoint->address.length() == 4 ? sizeof(sockaddr_in)
                                                                : sizeof(sockaddr_in6));
  size += attribute_size(2) + attribute_size(0);
  for (const auto& prefix : peer.allowed_ips) size += allowed_ip_size(prefix);
  return size;
}

netlink::Message start(uint16_t family, uint8_t command, uint16_t flags) {
  netlink::Message message(family, flags);
  auto* header = message.put_extra_header<genlmsghdr>();
  header->cmd = command;
  header->version = WG_GENL_VERSION;
  return message;
}

void put_endpoint(netlink::Message& message, const Endpoint& endpoint) {
  if (endpoint.address.length() == 4) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(endpoint.port);
    std::memcpy(&address.sin_addr, endpoint.address.bytes.data(), 4);
    return message.put_bytes(WGPEER_A_ENDPOINT, &address, sizeof address);
  }
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_port = htons(endpoint.port);
  std::memcpy(&address.sin6_addr, endpoint.address.bytes.data(), 16);
  message.put_bytes(WGPEER_A_ENDPOINT, &address, sizeof address);
}

void put_peer(netlink::Message& message, const PeerChange& change) {
  const auto& peer = change.peer;
  auto* nest = message.begin_nested(0);
  message.put_bytes(WGPEER_A_PUBLIC_KEY, peer.public_key.bytes.data(), 32);
  uint32_t flags = (change.remove ? WGPEER_F_REMOVE_ME : 0) |
                   (change.update_only ? WGPEER_F_UPDATE_ONLY : 0) |
                   (change.replace_allowed_ips ? WGPEER_F_REPLACE_ALLOWEDIPS : 0);
  message.put_u32(WGPEER_A_FLAGS, flags);
  if (!change.remove) {
    if (peer.preshared_key || change.clear_preshared_key)
      message.put_bytes(WGPEER_A_PRESHARED_KEY, peer.preshared_key.value_or(Key{}).bytes.data(),
                        32);
    if (peer.endpoint) put_endpoint(message, *peer.endpoint);
    message.put_u16(WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, peer.persistent_keepalive);
    auto* ips = message.begin_nested(WGPEER_A_ALLOWEDIPS);
    for (const auto& prefix : peer.allowed_ips) {
      auto* ip = message.begin_nested(0);
      message.put_u16(WGALLOWEDIP_A_FAMILY, prefix.address.length() == 4 ? AF_INET : AF_INET6);
      message.put_bytes(WGALLOWEDIP_A_IPADDR, prefix.address.bytes.data(), prefix.address.length());
      message.put_u8(WGALLOWEDIP_A_CIDR_MASK, prefix.length);
      message.end_nested(ip);
    }
    message.end_nested(ips);
  }
  message.end_nested(nest);
}

// A SET_DEVICE message with the device-level settings (first message) or only the name.
netlink::Message device_message(uint16_t family, std::string_view interface,
                                const DeviceChange& change, bool first) {
  auto message = start(family, WG_CMD_SET_DEVICE, NLM_F_REQUEST | NLM_F_ACK);
  message.put_string(WGDEVICE_A_IFNAME, interface);
  if (!first) return message;
  if (change.private_key)
    message.put_bytes(WGDEVICE_A_PRIVATE_KEY, change.private_key->bytes.data(), 32);
  if (change.listen_port) message.put_u16(WGDEVICE_A_LISTEN_PORT, *change.listen_port);
  if (change.fwmark) message.put_u32(WGDEVICE_A_FWMARK, *change.fwmark);
  message.put_u32(WGDEVICE_A_FLAGS, change.replace_peers ? WGDEVICE_F_REPLACE_PEERS : 0);
  return message;
}

}  // namespace

netlink::Message get_device_request(uint16_t family, std::string_view interface) {
  auto message = start(family, WG_CMD_GET_DEVICE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP);
  message.put_string(WGDEVICE_A_IFNAME, interface);
  return message;
}

Result<std::vector<netlink::Message>> set_device_requests(uint16_t family,
                                                          std::string_view interface,
                                                          const DeviceChange& change) {
  std::vector<netlink::Message> messages;
  messages.push_back(device_message(family, interface, change, true));
  std::vector<const PeerChange*> pending;  // peers for the last message
  size_t length = messages.back().header()->nlmsg_len + attribute_size(0);
  // What a continuation message (name and peers only) holds before its first peer.
  size_t continuation_start =
      device_message(family, interface, change, false).header()->nlmsg_len + attribute_size(0);
  auto flush = [&] {
    auto& message = messages.back();
    auto* peers = message.begin_nested(WGDEVICE_A_PEERS);
    for (const auto* peer : pending) put_peer(message, *peer);
    message.end_nested(peers);
    pending.clear();
  };
  for (const auto& peer : change.peers) {
    auto size = peer_size(peer);
    if (continuation_start + size > netlink::Message::kCapacity)
      return fail(ErrorCode::invalid_input,
                  "WireGuard peer {}: too many allowed IPs for one netlink message",
                  peer.peer.public_key.base64());
    if (length + size > netlink::Message::kCapacity) {
      flush();
      messages.push_back(device_message(family, interface, change, false));
      length = continuation_start;
    }
    pending.push_back(&peer);
    length += size;
  }
  if (!pending.empty()) flush();
  for (const auto& message : messages)
    if (message.overflowed())
      return fail(ErrorCode::internal, "a WireGuard netlink message overflowed");
  return messages;
}

}  // namespace opdbus::wireguard
