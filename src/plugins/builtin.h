// The explicit list of plugins built into op-dbus (no static-initialiser registration), and the
// host settings they are built with.
#pragma once

#include <filesystem>
#include <string>

#include "base/result.h"
#include "plugin/registry.h"

namespace opdbus {

struct PluginSettings {
  std::string bus_address;           // empty: the system bus (DBUS_SYSTEM_BUS_ADDRESS)
  std::filesystem::path root = "/";  // the managed host's root for files op-dbus writes
  std::filesystem::path state_dir;   // where the discovery index lives
  std::string ovsdb_address = "unix:/var/run/openvswitch/db.sock";
  std::string ovsdb_private_key, ovsdb_certificate, ovsdb_ca_cert;  // for ssl: addresses
  std::filesystem::path lxc_path;  // LXC's container directory; empty: its lxc.lxcpath
};

Status register_builtin_plugins(Registry& registry, const PluginSettings& settings);

}  // namespace opdbus
