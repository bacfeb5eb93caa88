// A WireGuard device's configuration and status, as both of its interfaces carry it: the
// cross-platform UAPI socket (wireguard-go and other userspace implementations; uapi.h) and the
// kernel's "wireguard" generic-netlink family (genl.h).
// Invariant: read-only status (handshake, transfer counters, the device's public key) is only
// ever read, never written.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proto/netlink/ip_address.h"
#include "proto/wireguard/key.h"

namespace opdbus::wireguard {

struct Endpoint {
  netlink::IpAddress address;
  uint16_t port = 0;
  // "192.0.2.1:51820" or "[2001:db8::1]:51820".
  static Result<Endpoint> parse(std::string_view text);
  std::string to_string() const;
  bool operator==(const Endpoint&) const = default;
};

struct Peer {
  Key public_key;
  std::optional<Key> preshared_key;
  std::optional<Endpoint> endpoint;
  uint16_t persistent_keepalive = 0;  // seconds; 0: off
  std::vector<netlink::Prefix> allowed_ips;
  // Status, read only.
  int64_t last_handshake_seconds = 0;
  int64_t last_handshake_nanoseconds = 0;
  uint64_t rx_bytes = 0;
  uint64_t tx_bytes = 0;
};

struct Device {
  std::optional<Key> private_key;
  std::optional<Key> public_key;  // read only (genetlink reports it; UAPI does not)
  uint16_t listen_port = 0;
  uint32_t fwmark = 0;
  std::vector<Peer> peers;
};

struct PeerChange {
  Peer peer;                         // its public key names it
  bool remove = false;               // remove the peer
  bool update_only = false;          // change it only if it exists
  bool replace_allowed_ips = false;  // its allowed IPs become exactly peer.allowed_ips
  bool clear_preshared_key = false;  // remove its preshared key
};

struct DeviceChange {
  std::optional<Key> private_key;
  std::optional<uint16_t> listen_port;
  std::optional<uint32_t> fwmark;
  bool replace_peers = false;  // the peers become exactly `peers`
  std::vector<PeerChange> peers;
};

// One WireGuard interface's configuration channel: the kernel's genetlink family (genl.h) or a
// userspace implementation's UAPI socket (uapi.h).
class DeviceControl {
 public:
  virtual ~DeviceControl() = default;
  virtual Result<Device> get() = 0;
  virtual Status set(const DeviceChange& change) = 0;
};

}  // namespace opdbus::wireguard
