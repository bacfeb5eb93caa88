// Requests of the kernel's "wireguard" generic-netlink family (linux/wireguard.h), built with
// libmnl: WG_CMD_GET_DEVICE and WG_CMD_SET_DEVICE, the latter split over as many messages as its
// peers need (the first may replace the peer list, the rest only add to it), as the kernel
// expects large configurations.
// Invariants: every message fits netlink::Message's buffer; a peer too large for one message is
// an error, not a truncated request.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "proto/netlink/message.h"
#include "proto/wireguard/device.h"

namespace opdbus::wireguard {

netlink::Message get_device_request(uint16_t family, std::string_view interface);
Result<std::vector<netlink::Message>> set_device_requests(uint16_t family,
                                                          std::string_view interface,
                                                          const DeviceChange& change);

}  // namespace opdbus::wireguard
