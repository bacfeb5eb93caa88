// What op-dbus keeps about a container that LXC's config cannot hold (the template it came from,
// which OVS bridge each veth joins, the mesh it belongs to): PATH/NAME/op-dbus.json, beside LXC's
// own config. Written by the lxc plugin, read by it and by the mesh.
// Invariant: the file is replaced atomically (mode 0600); a missing or unreadable one reads as {}.
#pragma once

#include <filesystem>

#include "base/json_util.h"
#include "base/result.h"

namespace opdbus::lxc {

Json read_metadata(const std::filesystem::path& container_directory);
Status write_metadata(const std::filesystem::path& container_directory, const Json& metadata);

}  // namespace opdbus::lxc
