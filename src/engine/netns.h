// Entering a named network namespace (the /run/netns/NAME convention of iproute2).
// Must be called before any socket is opened; the whole process then works inside it.
#pragma once

#include <string>

#include "base/result.h"

namespace opdbus {

Status enter_network_namespace(const std::string& name);

}  // namespace opdbus
