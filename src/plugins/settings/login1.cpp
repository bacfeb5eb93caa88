// The `login1` plugin: who is logged in, from org.freedesktop.login1 (systemd-logind), as
// read-only state (sessions, users, seats) for drift reports and audits. Nothing is declarable.
#include "plugins/dbus/bus_watch.h"
#include "plugins/settings/settings_plugins.h"
#include "proto/dbus/bus.h"

namespace opdbus::settings {
namespace {

constexpr const char* kSchema = R"JSON({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "login1",
  "description": "Read-only: sessions, users and seats known to org.freedesktop.login1 (systemd-logind).",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "sessions": {"type": "array", "description": "read-only",
                 "items": {"type": "object", "properties": {
                   "id": {"type": "string"}, "uid": {"type": "integer"},
                   "user": {"type": "string"}, "seat": {"type": "string"}}}},
    "users": {"type": "array", "description": "read-only",
              "items": {"type": "object", "properties": {
                "uid": {"type": "integer"}, "name": {"type": "string"}}}},
    "seats": {"type": "array", "description": "read-only", "items": {"type": "string"}}
  }
})JSON";

constexpr const char* kService = "org.freedesktop.login1";
constexpr const char* kPath = "/org/freedesktop/login1";
constexpr const char* kManager = "org.freedesktop.login1.Manager";

const PluginDescriptor& login1_descriptor() {
  static const PluginDescriptor descriptor{
      .name = "login1",
      .version = "1",
      .description = "sessions, users and seats (org.freedesktop.login1), read-only",
      .schema = Json::parse(kSchema),
      .read_only_fields = {"/sessions", "/users", "/seats"},
      .apply_after = {},
  };
  return descriptor;
}

class Login1Plugin final : public Plugin {
 public:
  explicit Login1Plugin(std::string bus_address) : bus_address_(std::move(bus_address)) {}

  const PluginDescriptor& descriptor() const override { return login1_descriptor(); }

  Availability probe() override {
    auto state = query();
    if (!state) return {false, state.error().describe()};
    return {true, fmt::format("systemd-logind: {} sessions", state->at("sessions").size())};
  }

  std::vector<Problem> validate(const Json& section,
                                const std::string& base_pointer) const override {
    std::vector<Problem> problems;
    for (const auto& [key, value] : section.items())
      problems.push_back({base_pointer + "/" + key,
                          "login1 is read-only: sessions, users and seats are reported, not "
                          "declared"});
    return problems;
  }

  Result<Json> query() override {
    auto bus = TRY(dbus::Bus::open(bus_address_));
    auto list = [&](const char* method) -> Result<Json> {
      auto reply =
          TRY(with_context(bus.call({kService, kPath, kManager, method, "", Json::array()}),
                           std::string("login1 ") + method));
      return reply.at(0);
    };
    Json sessions = Json::array(), users = Json::array(), seats = Json::array();
    for (const auto& row : TRY(list("ListSessions")))
      sessions.push_back(
          {{"id", row.at(0)}, {"uid", row.at(1)}, {"user", row.at(2)}, {"seat", row.at(3)}});
    for (const auto& row : TRY(list("ListUsers")))
      users.push_back({{"uid", row.at(0)}, {"name", row.at(1)}});
    for (const auto& row : TRY(list("ListSeats"))) seats.push_back(row.at(0));
    return Json{{"sessions", sessions}, {"users", users}, {"seats", seats}};
  }

  Result<std::vector<Change>> diff(const Json&, const Json&) override {
    return std::vector<Change>{};
  }
  Result<ApplyReport> apply(const std::vector<Change>&) override { return ApplyReport{}; }
  Result<Snapshot> checkpoint_of(const Json&, const std::vector<Change>&) override {
    return Snapshot{"login1", Json::object()};
  }
  Result<ApplyReport> restore(const Snapshot&) override { return ApplyReport{}; }

  Result<std::unique_ptr<Watch>> watch(WatchCallback callback) override {
    auto watch = std::make_unique<dbusplugin::BusWatch>(TRY(dbus::Bus::open(bus_address_)));
    for (const char* member : {"SessionNew", "SessionRemoved", "UserNew", "UserRemoved"})
      TRY(watch->add({kService, kPath, kManager, member},
                     [callback, member](const dbus::SignalEvent& event) {
                       callback({"login1", member, event.arguments.at(0).dump(), ""});
                     }));
    return std::unique_ptr<Watch>(std::move(watch));
  }

  Json exact_desired(const Json&, const Json&) const override { return Json::object(); }

 private:
  std::string bus_address_;
};

}  // namespace

std::unique_ptr<Plugin> make_login1_plugin(std::string bus_address) {
  return std::make_unique<Login1Plugin>(std::move(bus_address));
}

}  // namespace opdbus::settings
