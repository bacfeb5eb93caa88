// D-Bus type signatures: splitting a signature into its complete types and describing them.
// Invariant: split_signature accepts exactly the D-Bus specification's grammar (basic types,
// arrays, structs, dict entries only as array elements with a basic key, variants), at most 255
// bytes and 32 levels of nesting each for arrays and structs; anything else is an invalid_input
// error saying where it goes wrong.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace opdbus::dbus {

Result<std::vector<std::string>> split_signature(std::string_view signature);
bool is_basic_type(char code);

}  // namespace opdbus::dbus
