// The networkmanager plugin's pure logic: NetworkManager's connection settings (a{sa{sv}}, read
// with typed variants) <-> the plugin's connection shape, validation and the diff.
// Shape of one connection (keyed by its id):
//   {"type": "ethernet"|"bridge"|"bond"|"vlan"|NM type, "interface": "eth0", "autoconnect": bool,
//    "controller": "br0", "ipv4"/"ipv6": {"method", "addresses": ["10.0.0.2/24"], "gateway",
//    "dns": [...]}, "vlan": {"parent", "id"}, "bond": {"mode", "options": {}},
//    "bridge": {"stp": bool}, "state": "active"|"inactive"|"absent", "mode": "enforce"|"observe"}
// plus read-only "uuid" and "device".
// Invariants: like nmstate, only declared fields are compared (NetworkManager fills in defaults);
// settings op-dbus does not model are kept untouched on update (read-modify-write of typed
// variants).
#pragma once

#include <string>
#include <vector>

#include "plugin/plugin.h"

namespace opdbus::nm {

// One connection's settings (typed a{sa{sv}}) as the plugin's shape (without state/device).
Json connection_json(const Json& settings);
// `settings` (typed; empty for a new connection) with the declared fields of `item` written in.
Result<Json> apply_declared(Json settings, const std::string& id, const Json& item,
                            const std::string& uuid);

std::vector<Problem> validate_connections(const Json& section, const std::string& base_pointer);
Result<std::vector<Change>> plan_connections(const Json& current, const Json& desired);

std::string nm_type(const std::string& type);  // "ethernet" -> "802-3-ethernet"
std::string plugin_type(const std::string& type);

}  // namespace opdbus::nm
