// Change: one planned operation on one resource, the currency between diff, apply, the plan
// renderer and (later) the ledger. Also the generic helpers plugins use to diff declared fields.
// Invariant: `before` and `after` hold only the fields the desired item declared, so a Change
// shows exactly what will be written.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/json_util.h"

namespace opdbus {

enum class ChangeOp { create, modify, remove };
const char* change_op_name(ChangeOp op);

struct Change {
  std::string plugin;
  std::string kind;  // resource type within the plugin ("link", "address", "route")
  std::string id;    // resource identity within the plugin ("br0", "10.0.0.0/24 table main")
  ChangeOp op = ChangeOp::modify;
  Json before;           // declared fields as they are (null when creating)
  Json after;            // declared fields as desired (null when removing)
  bool observe = false;  // drift on an observe-mode item: reported, never applied
  std::string pointer;   // where the desired item is in the state file
  std::vector<std::string> identity_fields;  // fields of `after` already named by `id`

  Json to_json() const;
};

// A change of `plugin`'s resource `kind` `id`, located at `pointer` in the plugin's section.
Change make_change(std::string plugin, std::string kind, std::string id, ChangeOp op, Json before,
                   Json after, bool observe, std::string pointer);

struct FieldChange {
  std::string path;  // "mtu", "bridge/stp"
  Json from;
  Json to;
};

// True when every field declared in `desired` has the same value in `current` (recursively for
// objects; arrays and scalars compare whole).
bool declared_fields_match(const Json& current, const Json& desired);
// For sections keyed by name (plugins' exact_desired): `recorded`'s items as `declarable` makes
// them, plus {"state": "absent"} for every name only `existing` has.
Json exact_named(const Json& recorded, const Json& existing,
                 const std::function<Json(const Json&)>& declarable);
// The fields that differ between before and after, flattened to slash paths.
std::vector<FieldChange> field_changes(const Json& before, const Json& after);

}  // namespace opdbus
