// The generic method-setter plugin; see method_plugin.h.
#include "plugins/settings/method_plugin.h"

#include <spdlog/spdlog.h>

#include "plugins/dbus/bus_watch.h"
#include "proto/dbus/bus.h"

namespace opdbus::settings {
namespace {

constexpr std::chrono::milliseconds kTimeout{10000};

class MethodPlugin final : public Plugin {
 public:
  MethodPlugin(MethodService service, std::string bus_address)
      : service_(std::move(service)), bus_address_(std::move(bus_address)) {}

  const PluginDescriptor& descriptor() const override { return service_.descriptor; }

  Availability probe() override {
    auto state = query();
    if (!state) return {false, state.error().describe()};
    return {true, service_.service + " answers on the bus"};
  }

  std::vector<Problem> validate(const Json& section,
                                const std::string& base_pointer) const override {
    std::vector<Problem> problems;
    for (const auto& field : service_.fields)
      if (section.contains(field.key) && field.setter.empty())
        problems.push_back(
            {base_pointer + "/" + field.key,
             fmt::format("{} is read-only: it is reported, not declared", field.key)});
    if (service_.check)
      for (auto& problem : service_.check(section))
        problems.push_back({base_pointer + problem.pointer, std::move(problem.message)});
    return problems;
  }

  // Property by property: one property the service cannot read (timedated's NTP without
  // systemd to ask) must not hide the others; it is left out. Only an unreachable service fails.
  Result<Json> query() override {
    auto bus = TRY(dbus::Bus::open(bus_address_));
    Json state = Json::object();
    for (const auto& field : service_.fields) {
      auto reply =
          bus.call({service_.service, service_.path, "org.freedesktop.DBus.Properties", "Get", "ss",
                    Json::array({service_.interface, field.property}), kTimeout});
      if (reply)
        state[field.key] = reply->at(0);
      else if (reply.error().code == ErrorCode::unavailable)
        return make_failure(std::move(reply).error().with_context("read " + service_.service));
      else
        spdlog::debug("{}: {} unreadable: {}", service_.service, field.property,
                      reply.error().describe());
    }
    return state;
  }

  Result<std::vector<Change>> diff(const Json& current, const Json& desired) override {
    Json before = Json::object(), after = Json::object();
    for (const auto& field : service_.fields) {
      if (!desired.contains(field.key) || field.setter.empty()) continue;
      auto have = current.value(field.key, Json());
      if (have == desired[field.key]) continue;
      before[field.key] = have;
      after[field.key] = desired[field.key];
    }
    if (after.empty()) return std::vector<Change>{};
    return std::vector<Change>{make_change(service_.descriptor.name, "settings", service_.service,
                                           ChangeOp::modify, std::move(before), std::move(after),
                                           false, "")};
  }

  Result<ApplyReport> apply(const std::vector<Change>& changes) override {
    auto bus = TRY(dbus::Bus::open(bus_address_));
    ApplyReport report;
    for (const auto& change : changes)
      for (const auto& field : service_.fields) {
        if (!change.after.contains(field.key)) continue;
        TRY(with_context(
            bus.call({service_.service, service_.path, service_.interface, field.setter,
                      field.type + "b", Json::array({change.after[field.key], false}), kTimeout}),
            fmt::format("set {} of {}", field.key, service_.service)));
        ++report.writes;
      }
    return report;
  }

  Result<Snapshot> checkpoint_of(const Json& current, const std::vector<Change>& changes) override {
    Json data = Json::object();
    for (const auto& change : changes)
      for (const auto& [key, value] : change.after.items()) data[key] = current.value(key, Json());
    return Snapshot{service_.descriptor.name, data};
  }

  Result<ApplyReport> restore(const Snapshot& snapshot) override {
    auto current = TRY(query());
    return apply(TRY(diff(current, snapshot.data)));
  }

  Result<std::unique_ptr<Watch>> watch(WatchCallback callback) override {
    auto watch = std::make_unique<dbusplugin::BusWatch>(TRY(dbus::Bus::open(bus_address_)));
    TRY(watch->add(
        {service_.service, service_.path, "org.freedesktop.DBus.Properties", "PropertiesChanged"},
        [callback, name = service_.descriptor.name](const dbus::SignalEvent& event) {
          callback({name, "settings", event.path, ""});
        }));
    return std::unique_ptr<Watch>(std::move(watch));
  }

  Json exact_desired(const Json& target, const Json&) const override {
    Json desired = Json::object();
    for (const auto& field : service_.fields)
      if (!field.setter.empty() && target.contains(field.key))
        desired[field.key] = target[field.key];
    return desired;
  }

 private:
  MethodService service_;
  std::string bus_address_;
};

}  // namespace

std::unique_ptr<Plugin> make_method_plugin(MethodService service, std::string bus_address) {
  return std::make_unique<MethodPlugin>(std::move(service), std::move(bus_address));
}

std::vector<std::string> read_only_pointers(const std::vector<MethodField>& fields) {
  std::vector<std::string> out;
  for (const auto& field : fields)
    if (field.setter.empty()) out.push_back("/" + field.key);
  return out;
}

}  // namespace opdbus::settings
