// Registers every built-in plugin; adding a plugin means adding one line here.
#include "plugins/builtin.h"

#include "plugins/net/net_plugin.h"

namespace opdbus {

Status register_builtin_plugins(Registry& registry) {
  TRY(registry.add(net::make_net_plugin()));
  return ok();
}

}  // namespace opdbus
