// Generic netlink: the id the kernel gave a family (wireguard, devlink, ...) looked up by name
// through the nlctrl family, on a NETLINK_GENERIC socket.
// Invariant: a family the kernel does not have (its module is not loaded) is no error: nullopt.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "proto/netlink/socket.h"

namespace opdbus::netlink {

Result<std::optional<uint16_t>> generic_family_id(Socket& socket, std::string_view name);

}  // namespace opdbus::netlink
