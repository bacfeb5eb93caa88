// The `ovs` plugin: Open vSwitch bridges and ports through OVSDB (RFC 7047), never ovs-vsctl.
#pragma once

#include <memory>
#include <string>

#include "plugin/plugin.h"
#include "proto/ovsdb/stream.h"

namespace opdbus::ovs {

std::unique_ptr<Plugin> make_ovs_plugin(std::string ovsdb_address, ovsdb::TlsFiles tls);
const PluginDescriptor& ovs_descriptor();

// Makes `port` (an existing system interface) a port of `bridge` owned by `owner_plugin`, in one
// OVSDB transaction built by the plugin's own model, and waits for ovs-vswitchd; a port already
// there is left alone. For plugins whose resources join OVS bridges (the lxc plugin's container
// interfaces): the ovs plugin leaves such ports alone when a bridge's ports list omits them.
Status attach_port(const std::string& ovsdb_address, const ovsdb::TlsFiles& tls,
                   const std::string& bridge, const std::string& port,
                   const std::string& owner_plugin);
// Removes `port` from whichever bridge has it; a port no bridge has is no error.
Status detach_port(const std::string& ovsdb_address, const ovsdb::TlsFiles& tls,
                   const std::string& port);

}  // namespace opdbus::ovs
