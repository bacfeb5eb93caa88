// JSON Schema validation (valijson) with messages a person can act on: each violation becomes
// one Problem at the deepest JSON pointer, saying what was expected and what was found.
#pragma once

#include <string>
#include <vector>

#include "base/json_util.h"
#include "plugin/plugin.h"

namespace opdbus {

std::vector<Problem> check_against_schema(const Json& schema, const Json& value,
                                          const std::string& base_pointer);

}  // namespace opdbus
