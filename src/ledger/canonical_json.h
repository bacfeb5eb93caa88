// RFC 8785 JSON Canonicalization Scheme (JCS): the one byte sequence a JSON value hashes to.
// Invariants: object members sorted by their names' UTF-16 code units; strings escaped minimally;
// numbers printed as ECMAScript does for IEEE 754 doubles. Values JCS cannot represent exactly
// (NaN, infinities, integers beyond +-2^53, invalid UTF-8) are errors, never silently rounded.
#pragma once

#include <string>

#include "base/json_util.h"
#include "base/result.h"

namespace opdbus::ledger {

Result<std::string> canonical_json(const Json& value);

// The ECMAScript Number.prototype.toString form of a finite double ("1e+21", "0.000001").
std::string ecmascript_number(double value);

}  // namespace opdbus::ledger
