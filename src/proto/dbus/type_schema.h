// JSON Schema (draft 7) for the JSON a D-Bus type marshals from, following marshal.h's mapping,
// so tools built from introspection (MCP) tell agents exactly what each argument accepts.
// Invariant: the input must be one valid complete type (split_signature); 'h' (unix fd), which
// the marshaller refuses, gets the schema `false` (nothing validates).
#pragma once

#include <string_view>

#include "base/json_util.h"
#include "base/result.h"

namespace opdbus::dbus {

Result<Json> type_schema(std::string_view type);
// {"type": "object", "properties": {ARG: schema}, "required": [...]} for named arguments
// (unnamed ones are "arg0", "arg1", ...), given (name, type) pairs in order.
Result<Json> arguments_schema(const std::vector<std::pair<std::string, std::string>>& arguments);

}  // namespace opdbus::dbus
