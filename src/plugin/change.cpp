// Change helpers; see change.h.
#include "plugin/change.h"

namespace opdbus {
namespace {

void collect_field_changes(const Json& before, const Json& after, const std::string& prefix,
                           std::vector<FieldChange>& out) {
  if (after.is_object() && (before.is_object() || before.is_null())) {
    for (const auto& [key, value] : after.items()) {
      Json old_value = before.is_object() && before.contains(key) ? before[key] : Json();
      collect_field_changes(old_value, value, prefix.empty() ? key : prefix + "/" + key, out);
    }
    if (before.is_object())
      for (const auto& [key, value] : before.items())
        if (!after.contains(key))
          out.push_back({prefix.empty() ? key : prefix + "/" + key, value, Json()});
    return;
  }
  if (before != after) out.push_back({prefix, before, after});
}

}  // namespace

const char* change_op_name(ChangeOp op) {
  switch (op) {
    case ChangeOp::create:
      return "create";
    case ChangeOp::modify:
      return "modify";
    case ChangeOp::remove:
      return "remove";
  }
  return "?";
}

Json Change::to_json() const {
  Json out = {{"plugin", plugin}, {"kind", kind},   {"id", id},          {"op", change_op_name(op)},
              {"before", before}, {"after", after}, {"observe", observe}};
  if (!pointer.empty()) out["pointer"] = pointer;
  return out;
}

Change make_change(std::string plugin, std::string kind, std::string id, ChangeOp op, Json before,
                   Json after, bool observe, std::string pointer) {
  Change change;
  change.plugin = std::move(plugin);
  change.kind = std::move(kind);
  change.id = std::move(id);
  change.op = op;
  change.before = std::move(before);
  change.after = std::move(after);
  change.observe = observe;
  change.pointer = std::move(pointer);
  return change;
}

Json exact_named(const Json& recorded, const Json& existing,
                 const std::function<Json(const Json&)>& declarable) {
  Json out = Json::object();
  for (const auto& [name, item] : recorded.items()) out[name] = declarable(item);
  for (const auto& [name, item] : existing.items())
    if (!out.contains(name)) out[name] = {{"state", "absent"}};
  return out;
}

bool declared_fields_match(const Json& current, const Json& desired) {
  if (desired.is_object()) {
    if (!current.is_object()) return false;
    for (const auto& [key, value] : desired.items()) {
      auto it = current.find(key);
      if (it == current.end() || !declared_fields_match(*it, value)) return false;
    }
    return true;
  }
  return current == desired;
}

std::vector<FieldChange> field_changes(const Json& before, const Json& after) {
  std::vector<FieldChange> out;
  collect_field_changes(before, after, "", out);
  return out;
}

}  // namespace opdbus
