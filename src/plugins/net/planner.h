// The net plugin's planner: desired vs current -> ordered Changes (no host access).
// Order: route removals, address removals, link removals, link creations, link changes,
// address additions, route additions, so each request finds what it depends on.
#pragma once

#include <vector>

#include "base/json_util.h"
#include "base/result.h"
#include "plugin/change.h"

namespace opdbus::net {

// `current` is normalise() output; `desired` a validated section. Pointers in the Changes are
// relative to the section ("/interfaces/0").
Result<std::vector<Change>> plan_changes(const Json& current, const Json& desired);
int change_phase(const Change& change);

}  // namespace opdbus::net
