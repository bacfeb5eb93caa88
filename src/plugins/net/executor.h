// The net plugin's executor: turns planned Changes into batched rtnetlink requests, phase by
// phase (see planner.h), and checks every ACK. An error names the object and the kernel's text.
// Removals that find their object already gone (a veth peer removed with its pair) succeed.
#pragma once

#include <vector>

#include "base/result.h"
#include "plugin/change.h"
#include "proto/netlink/socket.h"

namespace opdbus::net {

// Returns the number of requests the kernel accepted.
Result<size_t> execute_changes(netlink::Socket& socket, const std::vector<Change>& changes);

}  // namespace opdbus::net
