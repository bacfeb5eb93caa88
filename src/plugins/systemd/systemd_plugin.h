// The `systemd` plugin: units' active state, enablement, masking and unit files, through the
// systemd manager's D-Bus API.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "plugin/plugin.h"

namespace opdbus::systemd {

struct SystemdSettings {
  std::string bus_address;     // empty: the system bus
  std::filesystem::path root;  // unit files go to ROOT/etc/systemd/system
};

std::unique_ptr<Plugin> make_systemd_plugin(SystemdSettings settings);
const PluginDescriptor& systemd_descriptor();

}  // namespace opdbus::systemd
