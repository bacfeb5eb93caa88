// The systemd plugin's pure logic, separate from the bus so it is unit-tested without systemd:
// the normalised unit state, validation, the diff, and the ordered steps an apply takes.
// Invariants: a unit's diff compares only declared fields; steps run in an order that cannot
// defeat itself (unmask before start, stop before mask, one reload after file changes).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "plugin/plugin.h"
#include "plugins/systemd/manager.h"

namespace opdbus::systemd {

// A unit's state; "enabled" and "unit_file_state" only when its unit file state was read.
Json unit_json(const UnitStatus& status);
// {"units": {NAME: unit_json}}.
Json normalise_units(const std::map<std::string, UnitStatus>& units);

std::vector<Problem> validate_units(const Json& section, const std::string& base_pointer);
Result<std::vector<Change>> plan_units(const Json& current, const Json& desired);
// The declarable fields of each changed unit as they are in `current` (active_state reduced
// to active/inactive; unit_file null where no file exists; unit_file also for units being masked,
// since masking replaces their file), as a section restore() converges to.
Json checkpoint_units(const Json& current, const std::vector<Change>& changes);
// A section declaring every unit of `target` (a past query) as it was.
Json exact_units(const Json& target);

struct UnitFileWrite {
  std::string unit;
  std::optional<std::string> content;  // nullopt: remove the file
};

struct UnitSteps {
  std::vector<UnitFileWrite> files;
  std::vector<std::string> unmask, enable, disable;  // then one reload
  std::vector<std::string> reset_failed;
  std::vector<JobRequest> jobs;
  std::vector<std::string> mask;  // after the jobs (a unit is stopped before it is masked)
  bool reload_before_jobs() const {
    return !files.empty() || !unmask.empty() || !enable.empty() || !disable.empty();
  }
};

UnitSteps plan_steps(const std::vector<Change>& changes);

}  // namespace opdbus::systemd
