// The lxc plugin: LXC containers through liblxc's C API (create from a template or as a clone of
// a golden container, configure, start, stop, destroy), never the lxc-* commands. A container's
// veth can join a Linux bridge (LXC links it) or an OVS bridge (the port is added through OVSDB
// with the ovs plugin's model once the container runs).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "plugin/plugin.h"

namespace opdbus::lxcplugin {

struct LxcSettings {
  std::filesystem::path path;             // the containers' directory; empty: LXC's lxc.lxcpath
  std::filesystem::path state_directory;  // where container logs go (STATE/lxc/NAME.log)
  std::chrono::seconds stop_timeout{10};  // a clean shutdown's limit before the container is killed
  std::function<Status(const std::string& bridge, const std::string& port)> attach_ovs_port;
  std::function<Status(const std::string& port)> detach_ovs_port;
  // How LXC hooks run op-dbus for this host ("/usr/bin/op-dbus --state-dir ... --lxc-path ...");
  // the hooks add "mesh enroll|leave MESH".
  std::string mesh_command;
};

const PluginDescriptor& lxc_descriptor();
std::unique_ptr<Plugin> make_lxc_plugin(LxcSettings settings);

}  // namespace opdbus::lxcplugin
