// The explicit list of plugins built into op-dbus (no static-initialiser registration).
#pragma once

#include "base/result.h"
#include "plugin/registry.h"

namespace opdbus {

Status register_builtin_plugins(Registry& registry);

}  // namespace opdbus
