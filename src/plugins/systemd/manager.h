// A client of systemd's manager (org.freedesktop.systemd1) over D-Bus: unit listing in two calls
// (ListUnits, ListUnitFiles), LoadUnit for units neither call reports, unit-file operations and
// jobs. Jobs are awaited through the JobRemoved signal, subscribed before the job is queued, so
// a job that finishes before StartUnit returns is not missed; there is no polling (only after
// seconds of silence are vanished jobs settled from their unit's state: a reload can lose the
// signal).
// Invariant: a job whose result is not "done" is an error naming the unit and the result.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "proto/dbus/bus.h"

namespace opdbus::systemd {

struct UnitStatus {
  std::string load_state = "not-found";   // loaded, not-found, masked, error, stub, merged
  std::string active_state = "inactive";  // active, inactive, failed, activating, ...
  std::string sub_state = "dead";
  // enabled, disabled, static, masked, ... ("" when there is no unit file); nullopt when not
  // read (systemd computes it per file, at milliseconds each, so it is read only when needed).
  std::optional<std::string> unit_file_state;
};

enum class JobKind { start, stop, restart };

struct JobRequest {
  JobKind kind;
  std::string unit;
};

class Manager {
 public:
  static Result<Manager> connect(const std::string& bus_address);

  // The manager's version string ("252.30-1~deb12u2").
  Result<std::string> version();
  // Every loaded unit (ListUnits; unit file states not read).
  Result<std::map<std::string, UnitStatus>> loaded_units();
  // Unit file states by unit name (ListUnitFilesByPatterns; every unit file when `names` is
  // empty).
  Result<std::map<std::string, std::string>> unit_file_states(
      const std::vector<std::string>& names);
  // Every loaded unit and every installed unit file, with unit file states.
  Result<std::map<std::string, UnitStatus>> list_units();
  // Loads `name` (a unit that is neither loaded nor has a listed unit file) and reads its state.
  Result<UnitStatus> load_unit(const std::string& name);

  Status enable(const std::vector<std::string>& units);
  Status disable(const std::vector<std::string>& units);
  Status mask(const std::vector<std::string>& units);
  Status unmask(const std::vector<std::string>& units);
  Status reset_failed(const std::string& unit);
  Status reload();
  // Queues every job, then waits for all of them; fails listing each job that did not succeed.
  Status run_jobs(const std::vector<JobRequest>& jobs, std::chrono::milliseconds timeout);

  dbus::Bus& bus() { return bus_; }

 private:
  explicit Manager(dbus::Bus bus) : bus_(std::move(bus)) {}
  Result<Json> call(const std::string& member, const std::string& signature, Json arguments);
  Result<std::string> queue_job(const JobRequest& job);
  Status settle_vanished_jobs(const std::vector<std::string>& pending,
                              const std::map<std::string, const JobRequest*>& queued,
                              std::map<std::string, std::string>& results);
  Result<Json> property(const std::string& path, const std::string& interface,
                        const std::string& name);
  // Why a unit's job failed, as far as the manager says (" (unit is failed, ...)"), or "".
  std::string failure_detail(const std::string& unit);
  dbus::Bus bus_;
};

const char* job_kind_name(JobKind kind);

}  // namespace opdbus::systemd
