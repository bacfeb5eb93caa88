// The wireguard plugin's pure logic: devices as read from the kernel or a UAPI socket <-> the
// plugin's shape, validation, the diff, and the desired sections for checkpoints and rollback.
// Shape: {"interfaces": {NAME: {"implementation": "kernel"|"userspace", "public_key",
//   "listen_port", "fwmark", "addresses": ["10.77.0.1/24"], "peers": [{"public_key", "endpoint",
//   "allowed_ips", "persistent_keepalive", "preshared_key_sha256", "latest_handshake",
//   "rx_bytes", "tx_bytes"}]}}}, peers sorted by key and allowed IPs and addresses sorted.
// Invariants: no private or preshared key ever appears in the shape or a Change (keys are named
// by their file, or by a fingerprint); only declared fields are compared, so a query fed back is a
// no-op; a declared `peers` or `addresses` list is the complete set.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "plugin/plugin.h"
#include "proto/wireguard/device.h"

namespace opdbus::wg {

struct InterfaceState {
  std::string implementation;          // "kernel" or "userspace"
  wireguard::Device device;            // with the private key, when readable
  std::vector<std::string> addresses;  // "ADDRESS/LENGTH", empty when the link is elsewhere
};

Json normalise(const std::map<std::string, InterfaceState>& interfaces);
std::vector<Problem> validate_interfaces(const Json& section, const std::string& base_pointer);

// Reads a key file for the diff: the key, nullopt when the file does not exist yet, or an error
// (unreadable, malformed).
using KeyFileReader = std::function<Result<std::optional<wireguard::Key>>(const std::string& path)>;
Result<std::vector<Change>> plan_interfaces(const Json& current, const Json& desired,
                                            const KeyFileReader& read_key);

// The name of the interface a change acts on.
std::string interface_of(const Change& change);
// The touched interfaces as they are in `current` (read-only fields dropped), or "absent".
Json checkpoint_interfaces(const Json& current, const std::vector<Change>& changes);
// `target`'s interfaces (read-only fields dropped), plus "absent" for those only in `current`.
Json exact_interfaces(const Json& target, const Json& current);

}  // namespace opdbus::wg
