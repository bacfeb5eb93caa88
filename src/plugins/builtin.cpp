// Registers every built-in plugin; adding a plugin means adding one line here.
#include "plugins/builtin.h"

#include "plugins/dbus/dbus_plugin.h"
#include "plugins/lxc/lxc_plugin.h"
#include "plugins/mesh/mesh_plugin.h"
#include "plugins/net/net_plugin.h"
#include "plugins/networkmanager/nm_plugin.h"
#include "plugins/ovs/ovs_plugin.h"
#include "plugins/settings/settings_plugins.h"
#include "plugins/systemd/systemd_plugin.h"
#include "plugins/wireguard/wireguard_plugin.h"

namespace opdbus {
namespace {

std::string shell_quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// This op-dbus, with this host's state and container directories, as LXC hooks run it; empty
// when this process cannot name itself or its state directory.
std::string hook_command(const PluginSettings& host) {
  std::error_code error;
  auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error || host.state_dir.empty()) return "";
  auto state = std::filesystem::absolute(host.state_dir, error);
  if (error) return "";
  auto command = shell_quoted(self.string()) + " --state-dir " + shell_quoted(state.string());
  auto lxc = std::filesystem::absolute(host.lxc_path, error);
  if (!host.lxc_path.empty() && !error) command += " --lxc-path " + shell_quoted(lxc.string());
  return command;
}

}  // namespace

Status register_builtin_plugins(Registry& registry, const PluginSettings& host) {
  TRY(registry.add(net::make_net_plugin()));
  const ovsdb::TlsFiles tls{host.ovsdb_private_key, host.ovsdb_certificate, host.ovsdb_ca_cert};
  TRY(registry.add(ovs::make_ovs_plugin(host.ovsdb_address, tls)));
  TRY(registry.add(systemd::make_systemd_plugin({host.bus_address, host.root})));
  TRY(registry.add(settings::make_method_plugin(settings::hostname_service(), host.bus_address)));
  TRY(registry.add(settings::make_method_plugin(settings::timedate_service(), host.bus_address)));
  TRY(registry.add(settings::make_login1_plugin(host.bus_address)));
  TRY(registry.add(nm::make_networkmanager_plugin(host.bus_address)));
  TRY(registry.add(
      dbusplugin::make_dbus_plugin({host.bus_address, host.state_dir / "discovery.sqlite"})));
  wg::WireguardSettings wireguard;
  wireguard.state_directory = host.state_dir;
  TRY(registry.add(wg::make_wireguard_plugin(std::move(wireguard))));
  lxcplugin::LxcSettings lxc;
  lxc.path = host.lxc_path;
  lxc.state_directory = host.state_dir;
  lxc.attach_ovs_port = [address = host.ovsdb_address, tls](const std::string& bridge,
                                                            const std::string& port) {
    return ovs::attach_port(address, tls, bridge, port, "lxc");
  };
  lxc.detach_ovs_port = [address = host.ovsdb_address, tls](const std::string& port) {
    return ovs::detach_port(address, tls, port);
  };
  lxc.mesh_command = hook_command(host);
  TRY(registry.add(lxcplugin::make_lxc_plugin(std::move(lxc))));
  meshplugin::MeshSettings mesh;
  mesh.state_directory = host.state_dir;
  mesh.lxc_path = host.lxc_path;
  TRY(registry.add(meshplugin::make_mesh_plugin(std::move(mesh))));
  return ok();
}

}  // namespace opdbus
