// WireGuard generic-netlink requests; see genl.h.
#include "proto/wireguard/genl.h"

#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/wireguard.h>
#include <netinet/in.h>

#include <libmnl/libmnl.h>
#include <linux/time_types.h>

#include <cstring>

#include "proto/netlink/generic.h"

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

Result<Key> key_of(const nlattr* attribute) {
  if (mnl_attr_get_payload_len(attribute) != 32)
    return fail(ErrorCode::invalid_input, "WireGuard netlink: a key is not 32 bytes");
  Key key;
  std::memcpy(key.bytes.data(), mnl_attr_get_payload(attribute), 32);
  return key;
}

std::optional<Endpoint> endpoint_of(const nlattr* attribute) {
  const auto length = mnl_attr_get_payload_len(attribute);
  const auto* data = static_cast<const uint8_t*>(mnl_attr_get_payload(attribute));
  sa_family_t family{};
  if (length >= sizeof family) std::memcpy(&family, data, sizeof family);
  Endpoint endpoint;
  if (family == AF_INET && length >= sizeof(sockaddr_in)) {
    sockaddr_in address{};
    std::memcpy(&address, data, sizeof address);
    auto ip = netlink::IpAddress::from_bytes(AF_INET, &address.sin_addr, 4);
    if (!ip) return std::nullopt;
    endpoint.address = *ip;
    endpoint.port = ntohs(address.sin_port);
    return endpoint;
  }
  if (family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    sockaddr_in6 address{};
    std::memcpy(&address, data, sizeof address);
    auto ip = netlink::IpAddress::from_bytes(AF_INET6, &address.sin6_addr, 16);
    if (!ip) return std::nullopt;
    endpoint.address = *ip;
    endpoint.port = ntohs(address.sin6_port);
    return endpoint;
  }
  return std::nullopt;
}

std::optional<netlink::Prefix> allowed_ip_of(const nlattr* nest) {
  uint16_t family = 0;
  const void* address = nullptr;
  size_t address_length = 0;
  std::optional<uint8_t> mask;
  netlink::for_each_nested(nest, [&](const nlattr* attribute) {
    switch (mnl_attr_get_type(attribute)) {
      case WGALLOWEDIP_A_FAMILY:
        if (mnl_attr_get_payload_len(attribute) >= 2) family = mnl_attr_get_u16(attribute);
        break;
      case WGALLOWEDIP_A_IPADDR:
        address = mnl_attr_get_payload(attribute);
        address_length = mnl_attr_get_payload_len(attribute);
        break;
      case WGALLOWEDIP_A_CIDR_MASK:
        if (mnl_attr_get_payload_len(attribute) >= 1) mask = mnl_attr_get_u8(attribute);
        break;
    }
  });
  const size_t expected = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
  if (expected == 0 || address_length != expected || !mask ||
      *mask > netlink::max_prefix_length(family))
    return std::nullopt;
  auto ip = netlink::IpAddress::from_bytes(family, address, address_length);
  if (!ip) return std::nullopt;
  return netlink::Prefix{*ip, *mask};
}

Status read_peer_attribute(const nlattr* attribute, Peer& peer) {
  const auto length = mnl_attr_get_payload_len(attribute);
  switch (mnl_attr_get_type(attribute)) {
    case WGPEER_A_PUBLIC_KEY:
      peer.public_key = TRY(key_of(attribute));
      break;
    case WGPEER_A_PRESHARED_KEY:
      if (auto psk = TRY(key_of(attribute)); psk != Key{}) peer.preshared_key = psk;
      break;
    case WGPEER_A_ENDPOINT:
      peer.endpoint = endpoint_of(attribute);
      break;
    case WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
      if (length >= 2) peer.persistent_keepalive = mnl_attr_get_u16(attribute);
      break;
    case WGPEER_A_LAST_HANDSHAKE_TIME:
      if (length >= sizeof(__kernel_timespec)) {
        __kernel_timespec time{};
        std::memcpy(&time, mnl_attr_get_payload(attribute), sizeof time);
        peer.last_handshake_seconds = time.tv_sec;
        peer.last_handshake_nanoseconds = time.tv_nsec;
      }
      break;
    case WGPEER_A_RX_BYTES:
      if (length >= 8) peer.rx_bytes = mnl_attr_get_u64(attribute);
      break;
    case WGPEER_A_TX_BYTES:
      if (length >= 8) peer.tx_bytes = mnl_attr_get_u64(attribute);
      break;
    case WGPEER_A_ALLOWEDIPS:
      netlink::for_each_nested(attribute, [&](const nlattr* nest) {
        if (auto prefix = allowed_ip_of(nest)) peer.allowed_ips.push_back(*prefix);
      });
      break;
  }
  return ok();
}

// A peer of the reply; the kernel continues a peer with many allowed IPs in the next message,
// repeating its public key, so a peer equal to the last one read extends it.
Status merge_peer(const nlattr* nest, Device& device) {
  Peer peer;
  Status status = ok();
  netlink::for_each_nested(nest, [&](const nlattr* attribute) {
    if (status) status = read_peer_attribute(attribute, peer);
  });
  TRY(std::move(status));
  if (!device.peers.empty() && device.peers.back().public_key == peer.public_key) {
    auto& last = device.peers.back();
    last.allowed_ips.insert(last.allowed_ips.end(), peer.allowed_ips.begin(),
                            peer.allowed_ips.end());
    return ok();
  }
  device.peers.push_back(std::move(peer));
  return ok();
}

Status read_device_attribute(const nlattr* attribute, Device& device) {
  const auto length = mnl_attr_get_payload_len(attribute);
  switch (mnl_attr_get_type(attribute)) {
    case WGDEVICE_A_PRIVATE_KEY:
      if (auto key = TRY(key_of(attribute)); key != Key{}) device.private_key = key;
      break;
    case WGDEVICE_A_PUBLIC_KEY:
      if (auto key = TRY(key_of(attribute)); key != Key{}) device.public_key = key;
      break;
    case WGDEVICE_A_LISTEN_PORT:
      if (length >= 2) device.listen_port = mnl_attr_get_u16(attribute);
      break;
    case WGDEVICE_A_FWMARK:
      if (length >= 4) device.fwmark = mnl_attr_get_u32(attribute);
      break;
    case WGDEVICE_A_PEERS: {
      Status status = ok();
      netlink::for_each_nested(attribute, [&](const nlattr* nest) {
        if (status) status = merge_peer(nest, device);
      });
      return status;
    }
  }
  return ok();
}

}  // namespace

Status merge_device_reply(const nlmsghdr& message, Device& device) {
  Status status = ok();
  netlink::for_each_attribute(&message, GENL_HDRLEN, [&](const nlattr* attribute) {
    if (status) status = read_device_attribute(attribute, device);
  });
  return status;
}

Result<std::optional<uint16_t>> KernelDevice::family() {
  auto socket = TRY(netlink::Socket::open(0, NETLINK_GENERIC));
  return netlink::generic_family_id(socket, WG_GENL_NAME);
}

Result<KernelDevice> KernelDevice::open(uint16_t family, std::string interface) {
  return KernelDevice(TRY(netlink::Socket::open(0, NETLINK_GENERIC)), family, std::move(interface));
}

Result<Device> KernelDevice::get() {
  Device device;
  TRY(socket_.dump(get_device_request(family_, interface_),
                   [&](const nlmsghdr& message) { return merge_device_reply(message, device); }));
  return device;
}

Status KernelDevice::set(const DeviceChange& change) {
  std::vector<netlink::Request> requests;
  for (auto& message : TRY(set_device_requests(family_, interface_, change)))
    requests.push_back({std::move(message), "WireGuard interface " + interface_});
  auto failures = TRY(socket_.execute(requests));
  if (!failures.empty())
    return fail(ErrorCode::kernel, "WireGuard: {}", failures.front().describe());
  return ok();
}

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
