// The systemd plugin's pure logic; see model.h.
#include "plugins/systemd/model.h"

#include <set>

namespace opdbus::systemd {
namespace {

const std::vector<std::string> kDeclarable{"active_state", "enabled", "masked", "unit_file"};

bool is_active(const std::string& state) {
  return state == "active" || state == "reloading" || state == "activating";
}

bool is_template(const std::string& name) {
  return name.find("@.") != std::string::npos;
}

Json declared_fields(const Json& item) {
  Json out = Json::object();
  for (const auto& key : kDeclarable)
    if (item.contains(key)) out[key] = item[key];
  return out;
}

const Json& unit_or_missing(const Json& current, const std::string& name) {
  static const Json missing = unit_json({.unit_file_state = ""});
  auto units = current.find("units");
  if (units == current.end()) return missing;
  auto it = units->find(name);
  return it == units->end() ? missing : *it;
}

// `have`'s values for the keys `declared` names (null where `have` lacks one).
Json project(const Json& have, const Json& declared) {
  Json out = Json::object();
  for (const auto& [key, value] : declared.items()) out[key] = have.value(key, Json());
  return out;
}

void plan_jobs(const std::string& unit, const Json& before, const Json& after, bool file_changed,
               UnitSteps& steps) {
  if (!after.contains("active_state")) return;
  const auto was = before.value("active_state", "");
  if (after["active_state"] == "active") {
    if (!is_active(was))
      steps.jobs.push_back({JobKind::start, unit});
    else if (file_changed)
      steps.jobs.push_back({JobKind::restart, unit});
  } else if (was == "failed") {
    steps.reset_failed.push_back(unit);
  } else if (is_active(was) || was == "deactivating") {
    steps.jobs.push_back({JobKind::stop, unit});
  }
}

void plan_unit_steps(const Change& change, UnitSteps& steps) {
  const auto& before = change.before;
  const auto& after = change.after;
  bool file_changed = after.contains("unit_file") && after["unit_file"] != before["unit_file"];
  if (file_changed)
    steps.files.push_back({change.id, after["unit_file"].is_string()
                                          ? std::optional(after["unit_file"].get<std::string>())
                                          : std::nullopt});
  if (after.value("masked", true) == false && before.value("masked", false))
    steps.unmask.push_back(change.id);
  if (after.value("masked", false) && !before.value("masked", false))
    steps.mask.push_back(change.id);
  if (after.value("enabled", false) && !before.value("enabled", false))
    steps.enable.push_back(change.id);
  if (after.value("enabled", true) == false && before.value("enabled", false))
    steps.disable.push_back(change.id);
  plan_jobs(change.id, before, after, file_changed, steps);
}

}  // namespace

Json unit_json(const UnitStatus& status) {
  Json out = {{"active_state", status.active_state},
              {"sub_state", status.sub_state},
              {"load_state", status.load_state},
              {"masked", status.load_state == "masked"}};
  if (status.unit_file_state) {
    const auto& file_state = *status.unit_file_state;
    out["unit_file_state"] = file_state;
    out["enabled"] = file_state == "enabled" || file_state == "enabled-runtime";
    out["masked"] = out["masked"] || file_state == "masked" || file_state == "masked-runtime";
  }
  return out;
}

Json normalise_units(const std::map<std::string, UnitStatus>& units) {
  Json out = Json::object();
  for (const auto& [name, status] : units) out[name] = unit_json(status);
  return {{"units", out}};
}

std::vector<Problem> validate_units(const Json& section, const std::string& base_pointer) {
  std::vector<Problem> problems;
  const auto units = section.value("units", Json::object());
  for (const auto& [name, unit] : units.items()) {
    auto pointer = base_pointer + "/units/" + name;
    auto add = [&](const std::string& field, std::string message) {
      problems.push_back({pointer + (field.empty() ? "" : "/" + field), std::move(message)});
    };
    auto state = unit.value("active_state", "");
    if (!state.empty() && state != "active" && state != "inactive")
      add("active_state",
          fmt::format("active_state '{}' cannot be declared: use active or inactive", state));
    if (!state.empty() && is_template(name))
      add("active_state", fmt::format("{} is a template and cannot be started; declare an "
                                      "instance such as {}",
                                      name, std::string(name).insert(name.find('@') + 1, "1")));
    if (unit.value("masked", false) && unit.value("enabled", false))
      add("enabled", "a masked unit cannot be enabled");
    if (unit.value("masked", false) && unit.contains("unit_file"))
      add("unit_file", "a masked unit's file is a link to /dev/null; drop unit_file or masked");
    if (unit.value("masked", false) && state == "active")
      add("active_state", "a masked unit cannot be started");
  }
  return problems;
}

Result<std::vector<Change>> plan_units(const Json& current, const Json& desired) {
  std::vector<Change> changes;
  const auto units = desired.value("units", Json::object());
  for (const auto& [name, item] : units.items()) {
    auto after = declared_fields(item);
    const auto& have = unit_or_missing(current, name);
    auto before = project(have, after);
    if (declared_fields_match(before, after)) continue;
    Change change;
    change.plugin = "systemd";
    change.kind = "unit";
    change.id = name;
    change.op = have.value("load_state", "") == "not-found" && after.contains("unit_file")
                    ? ChangeOp::create
                    : ChangeOp::modify;
    change.before = std::move(before);
    change.after = std::move(after);
    change.observe = item.value("mode", "enforce") == "observe";
    change.pointer = "/units/" + name;
    changes.push_back(std::move(change));
  }
  return changes;
}

Json checkpoint_units(const Json& current, const std::vector<Change>& changes) {
  Json units = Json::object();
  for (const auto& change : changes) {
    auto declared = change.after;
    if (declared.value("masked", false)) declared["unit_file"] = nullptr;  // masking replaces it
    auto was = project(unit_or_missing(current, change.id), declared);
    if (was.contains("active_state"))
      was["active_state"] =
          is_active(was["active_state"].get<std::string>()) ? "active" : "inactive";
    units[change.id] = std::move(was);
  }
  return {{"units", units}};
}

Json exact_units(const Json& target) {
  Json units = Json::object();
  const auto recorded = target.value("units", Json::object());
  for (const auto& [name, unit] : recorded.items()) {
    Json item = {{"enabled", unit.value("enabled", false)},
                 {"masked", unit.value("masked", false)}};
    if (!is_template(name))
      item["active_state"] = is_active(unit.value("active_state", "")) ? "active" : "inactive";
    units[name] = std::move(item);
  }
  return {{"units", units}};
}

UnitSteps plan_steps(const std::vector<Change>& changes) {
  UnitSteps steps;
  for (const auto& change : changes) plan_unit_steps(change, steps);
  return steps;
}

}  // namespace opdbus::systemd
