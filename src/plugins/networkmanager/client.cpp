// NetworkManager client; see client.h.
#include "plugins/networkmanager/client.h"

namespace opdbus::nm {
namespace {

constexpr const char* kService = "org.freedesktop.NetworkManager";
constexpr const char* kPath = "/org/freedesktop/NetworkManager";
constexpr const char* kManager = "org.freedesktop.NetworkManager";
constexpr const char* kSettingsPath = "/org/freedesktop/NetworkManager/Settings";
constexpr const char* kSettings = "org.freedesktop.NetworkManager.Settings";
constexpr const char* kProfile = "org.freedesktop.NetworkManager.Settings.Connection";
constexpr const char* kActive = "org.freedesktop.NetworkManager.Connection.Active";

// NMActiveConnectionState
constexpr uint32_t kActivating = 1, kActivated = 2, kDeactivated = 4;
// NMCheckpointCreateFlags: delete connections added after it, disconnect new devices, and
// allow it beside checkpoints others hold.
constexpr uint32_t kCheckpointFlags = 0x02 | 0x04 | 0x08;

}  // namespace

Result<Client> Client::connect(const std::string& bus_address) {
  return Client(TRY(dbus::Bus::open(bus_address)));
}

Result<Json> Client::call(const std::string& path, const std::string& interface,
                          const std::string& member, const std::string& signature, Json arguments,
                          dbus::Variants variants) {
  dbus::MethodCall call{kService, path, interface, member, signature, std::move(arguments)};
  call.variants = variants;
  return with_context(bus_.call(call), "NetworkManager " + member);
}

Result<Json> Client::property(const std::string& path, const std::string& interface,
                              const std::string& name) {
  return TRY(call(path, "org.freedesktop.DBus.Properties", "Get", "ss",
                  Json::array({interface, name})))
      .at(0);
}

Result<std::string> Client::version() {
  return TRY(property(kPath, kManager, "Version")).get<std::string>();
}

Result<std::map<std::string, Profile>> Client::profiles() {
  std::map<std::string, Profile> out;
  const auto paths = TRY(call(kSettingsPath, kSettings, "ListConnections", "", Json::array()));
  for (const auto& path : paths.at(0)) {
    auto settings = TRY(call(path.get<std::string>(), kProfile, "GetSettings", "", Json::array(),
                             dbus::Variants::typed))
                        .at(0);
    auto id = settings["connection"]["id"]["value"].get<std::string>();
    out[id] = {path.get<std::string>(), std::move(settings)};
  }
  return out;
}

Result<std::map<std::string, std::string>> Client::active_connections() {
  std::map<std::string, std::string> out;
  for (const auto& active : TRY(property(kPath, kManager, "ActiveConnections"))) {
    auto path = active.get<std::string>();
    auto state = property(path, kActive, "State");
    auto profile = property(path, kActive, "Connection");
    if (!state || !profile) continue;  // it went away meanwhile
    auto value = state->get<uint32_t>();
    if (value == kActivating || value == kActivated) out[profile->get<std::string>()] = path;
  }
  return out;
}

Result<std::string> Client::add(const Json& settings) {
  return TRY(call(kSettingsPath, kSettings, "AddConnection", "a{sa{sv}}", Json::array({settings})))
      .at(0)
      .get<std::string>();
}

Status Client::update(const std::string& profile, const Json& settings) {
  TRY(call(profile, kProfile, "Update", "a{sa{sv}}", Json::array({settings})));
  return ok();
}

Status Client::remove(const std::string& profile) {
  TRY(call(profile, kProfile, "Delete", "", Json::array()));
  return ok();
}

Status Client::await_state(const std::string& active, uint32_t wanted,
                           std::map<std::string, std::pair<uint32_t, uint32_t>>& states,
                           std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!states.count(active)) {
    auto state = property(active, kActive, "State");
    if (state) states.emplace(active, std::pair{state->get<uint32_t>(), 0u});
  }
  for (;;) {
    auto it = states.find(active);
    if (it != states.end() && it->second.first == wanted) return ok();
    if (it != states.end() && it->second.first == kDeactivated)
      return fail(ErrorCode::verify_failed,
                  "NetworkManager deactivated {} (NMActiveConnectionStateReason {})", active,
                  it->second.second);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return fail(ErrorCode::verify_failed, "{} did not reach state {} within {} s", active, wanted,
                  timeout.count() / 1000);
    TRY(bus_.process(left));
  }
}

Status Client::activate(const std::string& profile, std::chrono::milliseconds timeout) {
  std::map<std::string, std::pair<uint32_t, uint32_t>> states;
  auto subscription = TRY(bus_.subscribe(
      {kService, "", kActive, "StateChanged"}, [&states](const dbus::SignalEvent& event) {
        states[event.path] = {event.arguments.at(0).get<uint32_t>(),
                              event.arguments.at(1).get<uint32_t>()};
      }));
  auto active =
      TRY(call(kPath, kManager, "ActivateConnection", "ooo", Json::array({profile, "/", "/"})))
          .at(0)
          .get<std::string>();
  return await_state(active, kActivated, states, timeout);
}

Status Client::deactivate(const std::string& active, std::chrono::milliseconds timeout) {
  std::map<std::string, std::pair<uint32_t, uint32_t>> states;
  auto subscription = TRY(bus_.subscribe(
      {kService, active, kActive, "StateChanged"}, [&states](const dbus::SignalEvent& event) {
        states[event.path] = {event.arguments.at(0).get<uint32_t>(),
                              event.arguments.at(1).get<uint32_t>()};
      }));
  TRY(call(kPath, kManager, "DeactivateConnection", "o", Json::array({active})));
  if (!states.count(active) && !property(active, kActive, "State")) return ok();  // gone already
  return await_state(active, kDeactivated, states, timeout);
}

Result<std::string> Client::create_checkpoint() {
  return TRY(call(kPath, kManager, "CheckpointCreate", "aouu",
                  Json::array({Json::array(), 0, kCheckpointFlags})))
      .at(0)
      .get<std::string>();
}

Result<std::vector<std::string>> Client::checkpoints() {
  return TRY(property(kPath, kManager, "Checkpoints")).get<std::vector<std::string>>();
}

Status Client::rollback_checkpoint(const std::string& checkpoint) {
  auto results =
      TRY(call(kPath, kManager, "CheckpointRollback", "o", Json::array({checkpoint}))).at(0);
  std::string failed;
  for (const auto& [device, result] : results.items())
    if (result.get<uint32_t>() != 0) failed += (failed.empty() ? "" : ", ") + device;
  if (!failed.empty())
    return fail(ErrorCode::verify_failed, "NetworkManager could not roll back {}", failed);
  return ok();
}

Status Client::destroy_checkpoint(const std::string& checkpoint) {
  TRY(call(kPath, kManager, "CheckpointDestroy", "o", Json::array({checkpoint})));
  return ok();
}

}  // namespace opdbus::nm
