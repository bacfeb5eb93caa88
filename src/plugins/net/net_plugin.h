// The `net` plugin: links, addresses and routes of the current network namespace over rtnetlink.
#pragma once

#include <memory>

#include "plugin/plugin.h"

namespace opdbus::net {

std::unique_ptr<Plugin> make_net_plugin();
const PluginDescriptor& net_descriptor();

}  // namespace opdbus::net
