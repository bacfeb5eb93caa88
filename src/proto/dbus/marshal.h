// JSON <-> D-Bus marshalling driven by type signatures, over sd-bus messages.
// Mapping: integers (y n q i u x t) <-> JSON integers, range-checked (also written as decimal
// strings; x and t values beyond +-2^53 are read as strings, as I-JSON requires); d <-> number;
// b <-> bool;
// s o g <-> strings (object paths and signatures validated); arrays <-> arrays; a{KV} <-> objects
// (keys as strings, numeric keys in decimal); structs <-> arrays of their members; variants <->
// their value (written from {"signature": S, "value": V} or inferred: bool b, integer x, number d,
// string s, array of strings as, other arrays av, object a{sv}). Unix fds (h) are refused.
// Invariant: every error names the JSON pointer of the offending value and what was expected.
#pragma once

#include <string>
#include <string_view>

#include "base/json_util.h"
#include "base/result.h"

typedef struct sd_bus_message sd_bus_message;

namespace opdbus::dbus {

// Appends `value` as one complete type `type`; `pointer` locates it in messages ("/0/name").
Status append_json(sd_bus_message* message, std::string_view type, const Json& value,
                   const std::string& pointer);
// Appends each element of `values` (a JSON array) with the signature's complete types in order.
Status append_arguments(sd_bus_message* message, std::string_view signature, const Json& values);
// How variants are read: as their value, or typed as {"signature": S, "value": V}, which
// append_json writes back exactly (for read-modify-write of dictionaries like NetworkManager's).
enum class Variants { value, typed };
// Reads the next complete value; reads every remaining argument as a JSON array.
Result<Json> read_json(sd_bus_message* message, Variants variants = Variants::value);
Result<Json> read_arguments(sd_bus_message* message, Variants variants = Variants::value);
// The signature a variant gets for `value` when none is given.
Result<std::string> infer_signature(const Json& value, const std::string& pointer);

}  // namespace opdbus::dbus
