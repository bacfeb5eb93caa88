// The `ovs` plugin: Open vSwitch bridges and ports through OVSDB (RFC 7047), never ovs-vsctl.
#pragma once

#include <memory>
#include <string>

#include "plugin/plugin.h"
#include "proto/ovsdb/stream.h"

namespace opdbus::ovs {

std::unique_ptr<Plugin> make_ovs_plugin(std::string ovsdb_address, ovsdb::TlsFiles tls);
const PluginDescriptor& ovs_descriptor();

}  // namespace opdbus::ovs
