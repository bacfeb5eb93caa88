// Registers every built-in plugin; adding a plugin means adding one line here.
#include "plugins/builtin.h"

#include "plugins/net/net_plugin.h"
#include "plugins/systemd/systemd_plugin.h"

namespace opdbus {

Status register_builtin_plugins(Registry& registry, const PluginSettings& settings) {
  TRY(registry.add(net::make_net_plugin()));
  TRY(registry.add(systemd::make_systemd_plugin({settings.bus_address, settings.root})));
  return ok();
}

}  // namespace opdbus
