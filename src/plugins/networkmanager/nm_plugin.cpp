// The networkmanager plugin: glue between the plugin contract, the pure model and the client.
// Apply order: removals (ports first), then controllers and other profiles, then ports. A
// profile whose settings changed while it was active is re-activated so they take effect.
// Within the apply's process, NetworkManager's own checkpoint (CheckpointCreate before the first
// change, CheckpointRollback on failure, CheckpointDestroy when settled) guards the devices; the
// Snapshot holds each touched profile's full typed settings and activation, which restore
// converges to as well (NetworkManager's checkpoint covers devices, not inactive profiles) and
// which later rollbacks (commit timeout, `op-dbus rollback`) use alone.
#include "plugins/networkmanager/nm_plugin.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/fs.h"
#include "plugins/dbus/bus_watch.h"
#include "plugins/networkmanager/client.h"
#include "plugins/networkmanager/model.h"

namespace opdbus::nm {
namespace {

constexpr std::chrono::seconds kActivation{45};

Result<std::string> new_uuid() {
  auto text = TRY(read_file("/proc/sys/kernel/random/uuid"));
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

int apply_phase(const Change& change) {
  bool port = change.op == ChangeOp::remove ? change.before.contains("controller")
                                            : change.after.contains("controller");
  if (change.op == ChangeOp::remove) return port ? 0 : 1;
  return port ? 3 : 2;
}

bool settings_changed(const Change& change) {
  if (change.op == ChangeOp::create) return true;
  for (const auto& [key, value] : change.after.items())
    if (key != "state" && (!change.before.contains(key) || change.before[key] != value))
      return true;
  return false;
}

class NetworkManagerPlugin final : public Plugin {
 public:
  explicit NetworkManagerPlugin(std::string bus_address) : bus_address_(std::move(bus_address)) {}

  const PluginDescriptor& descriptor() const override { return networkmanager_descriptor(); }

  Availability probe() override {
    auto client = Client::connect(bus_address_);
    if (!client) return {false, client.error().describe()};
    auto version = client->version();
    if (!version) return {false, version.error().describe()};
    return {true, "NetworkManager " + *version};
  }

  std::vector<Problem> validate(const Json& section,
                                const std::string& base_pointer) const override {
    return validate_connections(section, base_pointer);
  }

  Result<Json> query() override {
    auto client = TRY(Client::connect(bus_address_));
    auto active = TRY(client.active_connections());
    Json connections = Json::object();
    for (const auto& [id, profile] : TRY(client.profiles())) {
      auto item = connection_json(profile.settings);
      item["state"] = active.count(profile.path) ? "active" : "inactive";
      connections[id] = std::move(item);
    }
    return Json{{"connections", connections}};
  }

  Result<std::vector<Change>> diff(const Json& current, const Json& desired) override {
    return plan_connections(current, desired);
  }

  Result<ApplyReport> apply(const std::vector<Change>& changes) override {
    auto client = TRY(Client::connect(bus_address_));
    hold_checkpoint(client);
    auto profiles = TRY(client.profiles());
    auto active = TRY(client.active_connections());
    auto ordered = changes;
    std::stable_sort(ordered.begin(), ordered.end(), [](const Change& a, const Change& b) {
      return apply_phase(a) < apply_phase(b);
    });
    ApplyReport report;
    for (const auto& change : ordered)
      TRY(with_context(apply_change(client, profiles, active, change, report),
                       "connection " + change.id));
    return report;
  }

  Result<Snapshot> checkpoint_of(const Json&, const std::vector<Change>& changes) override {
    auto client = TRY(Client::connect(bus_address_));
    Json data = {{"connections", Json::object()}};
    auto profiles = TRY(client.profiles());
    auto active = TRY(client.active_connections());
    for (const auto& change : changes) {
      auto it = profiles.find(change.id);
      data["connections"][change.id] = it == profiles.end()
                                           ? Json{{"settings", nullptr}, {"active", false}}
                                           : Json{{"settings", it->second.settings},
                                                  {"active", active.count(it->second.path) > 0}};
    }
    return Snapshot{"networkmanager", data};
  }

  Result<ApplyReport> restore(const Snapshot& snapshot) override {
    auto client = TRY(Client::connect(bus_address_));
    ApplyReport report;
    if (!held_.empty() && still_held(client)) {
      auto rolled = client.rollback_checkpoint(held_);  // NetworkManager destroys it
      if (rolled)
        ++report.writes;
      else
        spdlog::warn("NetworkManager checkpoint rollback: {}", rolled.error().describe());
    }
    held_.clear();
    TRY(converge_profiles(client, snapshot.data["connections"], report));
    return report;
  }

  void release() override {
    if (held_.empty()) return;
    auto client = Client::connect(bus_address_);
    if (client && still_held(*client))
      if (auto destroyed = client->destroy_checkpoint(held_); !destroyed)
        spdlog::warn("NetworkManager checkpoint {}: {}", held_, destroyed.error().describe());
    held_.clear();
  }

  Result<std::unique_ptr<Watch>> watch(WatchCallback callback) override {
    auto watch = std::make_unique<dbusplugin::BusWatch>(TRY(dbus::Bus::open(bus_address_)));
    auto report = [callback](const dbus::SignalEvent& event) {
      callback({"networkmanager", event.member, event.path, ""});
    };
    const std::string service = "org.freedesktop.NetworkManager";
    TRY(watch->add({service, "", "org.freedesktop.NetworkManager.Settings", ""}, report));
    TRY(watch->add({service, "", "org.freedesktop.NetworkManager.Settings.Connection", "Updated"},
                   report));
    TRY(watch->add(
        {service, "", "org.freedesktop.NetworkManager.Connection.Active", "StateChanged"}, report));
    return std::unique_ptr<Watch>(std::move(watch));
  }

  Json exact_desired(const Json& target, const Json& current) const override {
    Json connections = Json::object();
    const auto recorded = target.value("connections", Json::object());
    const auto existing = current.value("connections", Json::object());
    for (const auto& [id, item] : recorded.items()) {
      auto declared = item;
      declared.erase("uuid");
      connections[id] = std::move(declared);
    }
    for (const auto& [id, item] : existing.items())
      if (!connections.contains(id)) connections[id] = {{"state", "absent"}};
    return {{"connections", connections}};
  }

 private:
  Status apply_change(Client& client, std::map<std::string, Profile>& profiles,
                      const std::map<std::string, std::string>& active, const Change& change,
                      ApplyReport& report) {
    auto it = profiles.find(change.id);
    if (change.op == ChangeOp::remove) {
      if (it != profiles.end()) TRY(client.remove(it->second.path));
      ++report.writes;
      return ok();
    }
    std::string path = it == profiles.end() ? "" : it->second.path;
    bool changed = settings_changed(change);
    if (changed) {
      auto settings =
          TRY(apply_declared(it == profiles.end() ? Json::object() : it->second.settings, change.id,
                             change.after, TRY(new_uuid())));
      if (path.empty())
        path = TRY(client.add(settings));
      else
        TRY(client.update(path, settings));
      ++report.writes;
    }
    auto state = change.after.value("state", "");
    bool was_active = active.count(path) > 0;
    if (state == "active" || (state.empty() && was_active && changed)) {
      TRY(client.activate(path, kActivation));
      ++report.writes;
    } else if (state == "inactive" && was_active) {
      TRY(client.deactivate(active.at(path), kActivation));
      ++report.writes;
    }
    return ok();
  }

  Status converge_profiles(Client& client, const Json& wanted, ApplyReport& report) {
    auto profiles = TRY(client.profiles());
    auto active = TRY(client.active_connections());
    for (const auto& [id, want] : wanted.items()) {
      auto it = profiles.find(id);
      if (want["settings"].is_null()) {
        if (it != profiles.end()) TRY(client.remove(it->second.path)), ++report.writes;
        continue;
      }
      std::string path = it == profiles.end() ? "" : it->second.path;
      bool updated = true;
      if (path.empty())
        path = TRY(client.add(want["settings"]));
      else if (connection_json(it->second.settings) != connection_json(want["settings"]))
        TRY(client.update(path, want["settings"]));
      else
        updated = false;
      report.writes += updated;
      bool is_active = active.count(path) > 0;
      if (want["active"].get<bool>() && (!is_active || updated)) {
        TRY(client.activate(path, kActivation));  // re-activated so updated settings apply
        ++report.writes;
      } else if (!want["active"].get<bool>() && is_active) {
        TRY(client.deactivate(active.at(path), kActivation));
        ++report.writes;
      }
    }
    return ok();
  }

  // NetworkManager's own checkpoint of every device, taken before this process's apply and
  // rolled back by restore() in this process; released when the apply is settled.
  void hold_checkpoint(Client& client) {
    if (!held_.empty()) return;
    auto checkpoint = client.create_checkpoint();
    if (checkpoint)
      held_ = *checkpoint;
    else
      spdlog::warn("no NetworkManager checkpoint: {}", checkpoint.error().describe());
  }

  bool still_held(Client& client) const {
    auto held = client.checkpoints();
    return held && std::count(held->begin(), held->end(), held_) > 0;
  }

  std::string bus_address_;
  std::string held_;
};

}  // namespace

std::unique_ptr<Plugin> make_networkmanager_plugin(std::string bus_address) {
  return std::make_unique<NetworkManagerPlugin>(std::move(bus_address));
}

}  // namespace opdbus::nm
