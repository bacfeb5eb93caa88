// The `networkmanager` plugin: NetworkManager connection profiles (ethernet, bridge, bond, vlan,
// ...) with their IP configuration and activation, through NetworkManager's D-Bus API, with
// NetworkManager's own checkpoints behind the plugin's checkpoint.
#pragma once

#include <memory>
#include <string>

#include "plugin/plugin.h"

namespace opdbus::nm {

std::unique_ptr<Plugin> make_networkmanager_plugin(std::string bus_address);
const PluginDescriptor& networkmanager_descriptor();

}  // namespace opdbus::nm
