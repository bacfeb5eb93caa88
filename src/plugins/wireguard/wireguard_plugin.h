// The wireguard plugin: WireGuard interfaces, their keys, addresses and peers. It talks to the
// kernel through the "wireguard" generic-netlink family where the kernel has it, and otherwise to
// a userspace implementation (wireguard-go) through its UAPI socket, starting the implementation
// for an interface it creates (as wg-quick does). Addresses and the link itself go through
// rtnetlink.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "plugin/plugin.h"

namespace opdbus::wg {

struct WireguardSettings {
  std::filesystem::path uapi_directory = "/var/run/wireguard";
  std::string userspace_program = "wireguard-go";  // looked up in PATH
  // Where keys replaced by an apply are kept (0600) so a rollback can restore them, and where a
  // started implementation logs. Empty: under the system temporary directory.
  std::filesystem::path state_directory;
};

const PluginDescriptor& wireguard_descriptor();
std::unique_ptr<Plugin> make_wireguard_plugin(WireguardSettings settings);

}  // namespace opdbus::wg
