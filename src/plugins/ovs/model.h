// The ovs plugin's pure logic: OVSDB rows (Bridge, Port, Interface) <-> the plugin's shape, the
// diff, and the single transaction that applies a set of changes.
// Shape: {"bridges": [{"name", "datapath_type", "fail_mode", "stp_enable", "other_config",
//   "external_ids", "ports": [{"name", "type", "tag", "trunks", "vlan_mode", "options",
//   "external_ids"}], "state": "absent", "mode"}]}; a port's read-only "error" is what
// ovs-vswitchd reported for its interface. A bridge's own internal port is implicit.
// Invariants: only declared fields are compared, after normalisation ("" datapath is "system",
// empty sets are null or []), so a query fed back is a no-op; `ports` is the complete set, except
// for ports another plugin owns (external_ids "op-dbus:owner"), which stay unless declared absent.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "plugin/plugin.h"

namespace opdbus::ovs {

// The external_ids key naming the plugin that owns a port it added (attach_port).
inline constexpr const char* kOwnerKey = "op-dbus:owner";

// The rows of one select per table, keyed by _uuid.
struct Rows {
  std::map<std::string, Json> bridges, ports, interfaces;
};

Json normalise(const Rows& rows);
std::vector<Problem> validate_bridges(const Json& section, const std::string& base_pointer);
Result<std::vector<Change>> plan_bridges(const Json& current, const Json& desired);
// One transaction performing `changes` against `rows` (the current rows).
Result<Json> transaction_for(const std::vector<Change>& changes, const Rows& rows);
// The bridges `changes` touch, as they are in `current` (absent ones as {"state": "absent"}).
Json checkpoint_bridges(const Json& current, const std::vector<Change>& changes);
// `target`'s bridges, plus "absent" for bridges only in `current`.
Json exact_bridges(const Json& target, const Json& current);

}  // namespace opdbus::ovs
