// systemd manager client; see manager.h.
#include "plugins/systemd/manager.h"

#include <spdlog/spdlog.h>

#include <set>

namespace opdbus::systemd {
namespace {

constexpr std::chrono::milliseconds kSilence{3000};

constexpr const char* kService = "org.freedesktop.systemd1";
constexpr const char* kManagerPath = "/org/freedesktop/systemd1";
constexpr const char* kManagerInterface = "org.freedesktop.systemd1.Manager";

std::string base_name(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

const char* job_member(JobKind kind) {
  switch (kind) {
    case JobKind::start:
      return "StartUnit";
    case JobKind::stop:
      return "StopUnit";
    case JobKind::restart:
      return "RestartUnit";
  }
  return "";
}

}  // namespace

const char* job_kind_name(JobKind kind) {
  switch (kind) {
    case JobKind::start:
      return "start";
    case JobKind::stop:
      return "stop";
    case JobKind::restart:
      return "restart";
  }
  return "";
}

Result<Manager> Manager::connect(const std::string& bus_address) {
  return Manager(TRY(dbus::Bus::open(bus_address)));
}

Result<Json> Manager::call(const std::string& member, const std::string& signature,
                           Json arguments) {
  return with_context(bus_.call({kService, kManagerPath, kManagerInterface, member, signature,
                                 std::move(arguments)}),
                      "systemd " + member);
}

Result<std::string> Manager::version() {
  auto reply = TRY(with_context(
      bus_.call({kService, kManagerPath, "org.freedesktop.DBus.Properties", "Get", "ss",
                 Json::array({kManagerInterface, "Version"}), std::chrono::milliseconds(5000)}),
      "systemd manager"));
  return reply.at(0).get<std::string>();
}

Result<std::map<std::string, UnitStatus>> Manager::loaded_units() {
  auto loaded = TRY(call("ListUnits", "", Json::array()));
  std::map<std::string, UnitStatus> units;
  for (const auto& row : loaded.at(0)) {
    auto& unit = units[row.at(0).get<std::string>()];
    unit.load_state = row.at(2).get<std::string>();
    unit.active_state = row.at(3).get<std::string>();
    unit.sub_state = row.at(4).get<std::string>();
  }
  return units;
}

Result<std::map<std::string, std::string>> Manager::unit_file_states(
    const std::vector<std::string>& names) {
  auto files =
      TRY(call("ListUnitFilesByPatterns", "asas", Json::array({Json::array(), Json(names)})));
  std::map<std::string, std::string> states;
  for (const auto& file : files.at(0))
    states[base_name(file.at(0).get<std::string>())] = file.at(1).get<std::string>();
  return states;
}

Result<std::map<std::string, UnitStatus>> Manager::list_units() {
  auto units = TRY(loaded_units());
  for (auto& [name, unit] : units) unit.unit_file_state = "";
  for (const auto& [name, state] : TRY(unit_file_states({}))) {
    auto [it, added] = units.try_emplace(name);
    if (added) it->second.load_state = "not-loaded";  // a unit file systemd has not loaded
    it->second.unit_file_state = state;
  }
  return units;
}

Result<UnitStatus> Manager::load_unit(const std::string& name) {
  auto path = TRY(call("LoadUnit", "s", Json::array({name}))).at(0).get<std::string>();
  auto properties =
      TRY(with_context(bus_.call({kService, path, "org.freedesktop.DBus.Properties", "GetAll", "s",
                                  Json::array({"org.freedesktop.systemd1.Unit"})}),
                       "read unit " + name));
  const auto& values = properties.at(0);
  UnitStatus status;
  status.load_state = values.value("LoadState", status.load_state);
  status.active_state = values.value("ActiveState", status.active_state);
  status.sub_state = values.value("SubState", status.sub_state);
  status.unit_file_state = values.value("UnitFileState", "");
  return status;
}

Status Manager::enable(const std::vector<std::string>& units) {
  TRY(call("EnableUnitFiles", "asbb", Json::array({units, false, false})));
  return ok();
}

Status Manager::disable(const std::vector<std::string>& units) {
  TRY(call("DisableUnitFiles", "asb", Json::array({units, false})));
  return ok();
}

Status Manager::mask(const std::vector<std::string>& units) {
  TRY(call("MaskUnitFiles", "asbb", Json::array({units, false, true})));
  return ok();
}

Status Manager::unmask(const std::vector<std::string>& units) {
  TRY(call("UnmaskUnitFiles", "asb", Json::array({units, false})));
  return ok();
}

Status Manager::reset_failed(const std::string& unit) {
  TRY(call("ResetFailedUnit", "s", Json::array({unit})));
  return ok();
}

Status Manager::reload() {
  TRY(call("Reload", "", Json::array()));
  return ok();
}

Result<Json> Manager::property(const std::string& path, const std::string& interface,
                               const std::string& name) {
  auto reply = TRY(bus_.call({kService, path, "org.freedesktop.DBus.Properties", "Get", "ss",
                              Json::array({interface, name}), std::chrono::milliseconds(5000)}));
  return reply.at(0);
}

std::string Manager::failure_detail(const std::string& unit) {
  auto path = call("GetUnit", "s", Json::array({unit}));
  if (!path) return {};
  auto unit_path = path->at(0).get<std::string>();
  auto state = property(unit_path, "org.freedesktop.systemd1.Unit", "ActiveState");
  auto detail = fmt::format(" (unit is {}", state ? state->get<std::string>() : "unknown");
  if (unit.ends_with(".service")) {
    auto result = property(unit_path, "org.freedesktop.systemd1.Service", "Result");
    auto status = property(unit_path, "org.freedesktop.systemd1.Service", "ExecMainStatus");
    if (result && status)
      detail += fmt::format(", service result '{}', main process exit status {}",
                            result->get<std::string>(), status->get<int>());
  }
  return detail + ")";
}

// A JobRemoved signal can be lost across a manager reload; after a silence, jobs the manager
// no longer lists are settled from their unit's state instead of being waited for forever.
Status Manager::settle_vanished_jobs(const std::vector<std::string>& pending,
                                     const std::map<std::string, const JobRequest*>& queued,
                                     std::map<std::string, std::string>& results) {
  std::set<std::string> listed;
  const auto jobs = TRY(call("ListJobs", "", Json::array()));
  for (const auto& row : jobs.at(0)) listed.insert(row.at(4).get<std::string>());
  for (const auto& path : pending) {
    if (listed.count(path)) continue;
    const auto& job = *queued.at(path);
    auto status = TRY(load_unit(job.unit));
    bool active = status.active_state == "active" || status.active_state == "reloading";
    bool reached = job.kind == JobKind::stop ? !active : active;
    spdlog::debug("no JobRemoved for {} of {}; the unit is {}", job_kind_name(job.kind), job.unit,
                  status.active_state);
    results[path] = reached ? "done" : "failed";
  }
  return ok();
}

Result<std::string> Manager::queue_job(const JobRequest& job) {
  auto reply = TRY(call(job_member(job.kind), "ss", Json::array({job.unit, "replace"})));
  return reply.at(0).get<std::string>();
}

Status Manager::run_jobs(const std::vector<JobRequest>& jobs, std::chrono::milliseconds timeout) {
  if (jobs.empty()) return ok();
  std::map<std::string, std::string> results;  // job path -> result, as JobRemoved reports
  auto subscription = TRY(bus_.subscribe({kService, kManagerPath, kManagerInterface, "JobRemoved"},
                                         [&results](const dbus::SignalEvent& event) {
                                           results[event.arguments.at(1).get<std::string>()] =
                                               event.arguments.at(3).get<std::string>();
                                         }));
  TRY(call("Subscribe", "", Json::array()));
  std::map<std::string, const JobRequest*> queued;
  for (const auto& job : jobs) queued[TRY(queue_job(job))] = &job;

  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pending = [&] {
    std::vector<std::string> paths;
    for (const auto& [path, job] : queued)
      if (!results.count(path)) paths.push_back(path);
    return paths;
  };
  while (!pending().empty()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return fail(ErrorCode::unavailable, "systemd jobs did not finish within {} s",
                  timeout.count() / 1000);
    auto before = results.size();
    TRY(bus_.process(std::min(left, kSilence)));
    if (results.size() == before) TRY(settle_vanished_jobs(pending(), queued, results));
  }
  std::string failures;
  for (const auto& [path, job] : queued)
    if (results[path] != "done")
      failures += fmt::format("{}{} of {}: job result '{}'{}", failures.empty() ? "" : "; ",
                              job_kind_name(job->kind), job->unit, results[path],
                              failure_detail(job->unit));
  if (!failures.empty()) return fail(ErrorCode::verify_failed, "systemd {}", failures);
  return ok();
}

}  // namespace opdbus::systemd
