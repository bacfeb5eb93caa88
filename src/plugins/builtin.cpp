// Registers every built-in plugin; adding a plugin means adding one line here.
#include "plugins/builtin.h"

#include "plugins/dbus/dbus_plugin.h"
#include "plugins/lxc/lxc_plugin.h"
#include "plugins/net/net_plugin.h"
#include "plugins/networkmanager/nm_plugin.h"
#include "plugins/ovs/ovs_plugin.h"
#include "plugins/settings/settings_plugins.h"
#include "plugins/systemd/systemd_plugin.h"
#include "plugins/wireguard/wireguard_plugin.h"

namespace opdbus {

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
  TRY(registry.add(lxcplugin::make_lxc_plugin(std::move(lxc))));
  return ok();
}

}  // namespace opdbus
