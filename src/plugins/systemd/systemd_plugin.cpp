// The systemd plugin: glue between the plugin contract, the pure model and the manager client.
// Apply order (see model.h): unit files, unmask, enable/disable, one Reload, jobs awaited through
// JobRemoved, then mask and Reload. Checkpoints hold the declarable fields of each touched unit
// (unit file content included), and restore converges back to them through the same path.
#include "plugins/systemd/systemd_plugin.h"

#include "base/fs.h"
#include "plugins/dbus/bus_watch.h"
#include "plugins/systemd/model.h"

namespace opdbus::systemd {
namespace {

constexpr std::chrono::seconds kJobTimeout{120};

// "/org/freedesktop/systemd1/unit/nginx_2eservice" -> "nginx.service" (sd-bus path escaping).
std::string unit_name_from_path(const std::string& path) {
  auto escaped = path.substr(path.rfind('/') + 1);
  std::string out;
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] == '_' && i + 2 < escaped.size()) {
      out += static_cast<char>(std::stoi(escaped.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += escaped[i];
    }
  }
  return out;
}

Result<std::unique_ptr<Watch>> watch_units(dbus::Bus bus, const WatchCallback& callback) {
  auto watch = std::make_unique<dbusplugin::BusWatch>(std::move(bus));
  TRY(watch->add(
      {"org.freedesktop.systemd1", "", "org.freedesktop.DBus.Properties", "PropertiesChanged"},
      [callback](const dbus::SignalEvent& event) {
        const auto& args = event.arguments;
        if (args.at(0) == "org.freedesktop.systemd1.Unit" && args.at(1).contains("ActiveState"))
          callback({"systemd", "unit", unit_name_from_path(event.path), ""});
      }));
  TRY(watch->add({"org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                  "org.freedesktop.systemd1.Manager", "UnitFilesChanged"},
                 [callback](const dbus::SignalEvent&) {
                   callback({"systemd", "unit_files", "", ""});
                 }));
  TRY(watch->bus().call({"org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                         "org.freedesktop.systemd1.Manager", "Subscribe", "", Json::array()}));
  return std::unique_ptr<Watch>(std::move(watch));
}

class SystemdPlugin final : public Plugin {
 public:
  explicit SystemdPlugin(SystemdSettings settings) : settings_(std::move(settings)) {}

  const PluginDescriptor& descriptor() const override { return systemd_descriptor(); }

  Availability probe() override {
    auto manager = Manager::connect(settings_.bus_address);
    if (!manager) return {false, manager.error().describe()};
    auto version = manager->version();
    if (!version) return {false, version.error().describe()};
    return {true, "systemd " + *version + " (org.freedesktop.systemd1)"};
  }

  std::vector<Problem> validate(const Json& section,
                                const std::string& base_pointer) const override {
    return validate_units(section, base_pointer);
  }

  Result<Json> query() override {
    auto manager = TRY(Manager::connect(settings_.bus_address));
    return normalise_units(TRY(manager.list_units()));
  }

  // Only what the declaration needs: ListUnits, unit file states only for units declaring
  // "enabled" (systemd computes each at milliseconds), LoadUnit for units not loaded, and the
  // unit files op-dbus manages.
  Result<Json> query_for(const Json& desired) override {
    auto manager = TRY(Manager::connect(settings_.bus_address));
    auto units = TRY(manager.loaded_units());
    const auto declared = desired.value("units", Json::object());
    std::vector<std::string> file_states_needed;
    for (const auto& [name, item] : declared.items()) {
      if (!units.count(name))
        units[name] = TRY(manager.load_unit(name));
      else if (item.contains("enabled"))
        file_states_needed.push_back(name);
    }
    if (!file_states_needed.empty()) {
      auto states = TRY(manager.unit_file_states(file_states_needed));
      for (const auto& name : file_states_needed)
        units[name].unit_file_state = states.count(name) ? states[name] : "";
    }
    auto state = normalise_units(units);
    for (const auto& [name, item] : declared.items())
      if (item.contains("unit_file") || item.value("masked", false))
        state["units"][name]["unit_file"] = TRY(unit_file(name));
    return state;
  }

  Result<std::vector<Change>> diff(const Json& current, const Json& desired) override {
    return plan_units(current, desired);
  }

  Result<ApplyReport> apply(const std::vector<Change>& changes) override {
    auto manager = TRY(Manager::connect(settings_.bus_address));
    return execute(manager, plan_steps(changes));
  }

  Result<Snapshot> checkpoint_of(const Json& current, const std::vector<Change>& changes) override {
    return Snapshot{"systemd", checkpoint_units(current, changes)};
  }

  Result<ApplyReport> restore(const Snapshot& snapshot) override {
    auto current = TRY(query_for(snapshot.data));
    return apply(TRY(plan_units(current, snapshot.data)));
  }

  Result<std::unique_ptr<Watch>> watch(WatchCallback callback) override {
    return watch_units(TRY(dbus::Bus::open(settings_.bus_address)), callback);
  }

  Json exact_desired(const Json& target, const Json&) const override { return exact_units(target); }

 private:
  std::filesystem::path unit_path(const std::string& unit) const {
    return settings_.root / "etc/systemd/system" / unit;
  }

  // The unit file op-dbus manages for `unit`, or null when there is none (or only the
  // /dev/null link of a masked unit).
  Result<Json> unit_file(const std::string& unit) const {
    std::error_code error;
    auto path = unit_path(unit);
    if (std::filesystem::is_symlink(path, error) &&
        std::filesystem::read_symlink(path, error) == "/dev/null")
      return Json();
    if (!std::filesystem::exists(path, error)) return Json();
    return Json(TRY(read_file(path)));
  }

  Status write_unit_file(const UnitFileWrite& file) const {
    auto path = unit_path(file.unit);
    if (!file.content) return remove_file_durable(path);
    TRY(ensure_directory(path.parent_path(), 0755));
    return write_file_atomic(path, *file.content, 0644);
  }

  // Masking links ROOT/etc/systemd/system/UNIT to /dev/null, which systemd refuses while a
  // file is there; the checkpoint holds its content, so it is removed first.
  Status remove_local_unit_file(const std::string& unit) const {
    std::error_code error;
    if (!std::filesystem::is_regular_file(std::filesystem::symlink_status(unit_path(unit), error)))
      return ok();
    return remove_file_durable(unit_path(unit));
  }

  Result<ApplyReport> execute(Manager& manager, const UnitSteps& steps) const {
    ApplyReport report;
    auto count = [&report](Status status) -> Status {
      if (status) ++report.writes;
      return status;
    };
    for (const auto& file : steps.files) TRY(count(write_unit_file(file)));
    if (!steps.unmask.empty()) TRY(count(manager.unmask(steps.unmask)));
    if (!steps.enable.empty()) TRY(count(manager.enable(steps.enable)));
    if (!steps.disable.empty()) TRY(count(manager.disable(steps.disable)));
    if (steps.reload_before_jobs()) TRY(count(manager.reload()));
    for (const auto& unit : steps.reset_failed) TRY(count(manager.reset_failed(unit)));
    TRY(manager.run_jobs(steps.jobs, kJobTimeout));
    report.writes += steps.jobs.size();
    if (!steps.mask.empty()) {
      for (const auto& unit : steps.mask) TRY(remove_local_unit_file(unit));
      TRY(count(manager.mask(steps.mask)));
      TRY(count(manager.reload()));
    }
    return report;
  }

  SystemdSettings settings_;
};

}  // namespace

std::unique_ptr<Plugin> make_systemd_plugin(SystemdSettings settings) {
  return std::make_unique<SystemdPlugin>(std::move(settings));
}

}  // namespace opdbus::systemd
