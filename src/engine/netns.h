// Entering a named network namespace (the /run/netns/NAME convention of iproute2).
// Must be called before any socket is opened or thread started; the whole process then works
// inside it, with /sys remounted to show it (in a mount namespace of its own).
#pragma once

#include <string>

#include "base/result.h"

namespace opdbus {

Status enter_network_namespace(const std::string& name);

}  // namespace opdbus
