// The plugins for systemd's small host services: hostname1 and timedate1 (declarable through
// their setter methods, see method_plugin.h) and login1 (read-only: sessions, users, seats).
#pragma once

#include <memory>
#include <string>

#include "plugins/settings/method_plugin.h"

namespace opdbus::settings {

MethodService hostname_service();
MethodService timedate_service();
std::unique_ptr<Plugin> make_login1_plugin(std::string bus_address);

}  // namespace opdbus::settings
