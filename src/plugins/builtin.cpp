// Registers every built-in plugin; adding a plugin means adding one line here.
#include "plugins/builtin.h"

#include "plugins/dbus/dbus_plugin.h"
#include "plugins/net/net_plugin.h"
#include "plugins/systemd/systemd_plugin.h"

namespace opdbus {

Status register_builtin_plugins(Registry& registry, const PluginSettings& settings) {
  TRY(registry.add(net::make_net_plugin()));
  TRY(registry.add(systemd::make_systemd_plugin({settings.bus_address, settings.root})));
  TRY(registry.add(dbusplugin::make_dbus_plugin(
      {settings.bus_address, settings.state_dir / "discovery.sqlite"})));
  return ok();
}

}  // namespace opdbus
