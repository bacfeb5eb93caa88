// The lxc plugin's drift watch. liblxc has no change notifications, so it watches what a change
// leaves behind: container directories appearing or vanishing under the LXC path, a container's
// config file rewritten, and the "lxc.payload.NAME" cgroup LXC makes when a container starts and
// removes when it stops (inotify on the cgroup root).
#pragma once

#include <filesystem>
#include <memory>

#include "plugin/plugin.h"

namespace opdbus::lxcplugin {

Result<std::unique_ptr<Watch>> make_lxc_watch(const std::filesystem::path& lxc_path,
                                              WatchCallback callback);

}  // namespace opdbus::lxcplugin
