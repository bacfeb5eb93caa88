// Requests of the kernel's "wireguard" generic-netlink family (linux/wireguard.h), built with
// libmnl: WG_CMD_GET_DEVICE and WG_CMD_SET_DEVICE, the latter split over as many messages as its
// peers need (the first may replace the peer list, the rest only add to it), as the kernel
// expects large configurations.
// KernelDevice talks to one interface through them.
// Invariants: every message fits netlink::Message's buffer; a peer too large for one message is
// an error, not a truncated request. A GET_DEVICE reply split over messages (the kernel continues
// a peer's allowed IPs in the next one) merges into one Device.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "proto/netlink/message.h"
#include "proto/netlink/socket.h"
#include "proto/wireguard/device.h"

namespace opdbus::wireguard {

netlink::Message get_device_request(uint16_t family, std::string_view interface);
Result<std::vector<netlink::Message>> set_device_requests(uint16_t family,
                                                          std::string_view interface,
                                                          const DeviceChange& change);
// Adds one message of a GET_DEVICE reply to `device`.
Status merge_device_reply(const nlmsghdr& message, Device& device);

// A kernel WireGuard interface, reached through the "wireguard" generic-netlink family.
class KernelDevice final : public DeviceControl {
 public:
  // The family's id, or nullopt when the kernel has no WireGuard (module not loaded).
  static Result<std::optional<uint16_t>> family();
  static Result<KernelDevice> open(uint16_t family, std::string interface);
  // Over a NETLINK_GENERIC socket already open (in another network namespace, say).
  static KernelDevice over(netlink::Socket socket, uint16_t family, std::string interface) {
    return KernelDevice(std::move(socket), family, std::move(interface));
  }
  Result<Device> get() override;
  Status set(const DeviceChange& change) override;

 private:
  KernelDevice(netlink::Socket socket, uint16_t family, std::string interface)
      : socket_(std::move(socket)), family_(family), interface_(std::move(interface)) {}
  netlink::Socket socket_;
  uint16_t family_;
  std::string interface_;
};

}  // namespace opdbus::wireguard
