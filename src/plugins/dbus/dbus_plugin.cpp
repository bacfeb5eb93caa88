// The dbus plugin; see dbus_plugin.h. Declared properties are checked at validation against
// the catalog (live introspection, else the discovery index): unknown or read-only properties
// and values that do not marshal as the property's type are refused there, before anything is
// touched. A change's id is "SERVICE PATH INTERFACE.Property".
#include "plugins/dbus/dbus_plugin.h"

#include <set>
#include <tuple>

#include "base/sqlite.h"
#include "plugins/dbus/bus_watch.h"
#include "plugins/dbus/catalog.h"

namespace opdbus::dbusplugin {
namespace {

constexpr std::chrono::milliseconds kReadTimeout{2000};
constexpr const char* kProperties = "org.freedesktop.DBus.Properties";

constexpr const char* kSchema = R"JSON({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "dbus",
  "description": "Properties of any D-Bus service: SERVICE -> OBJECT_PATH -> INTERFACE -> Property -> value. Only writable properties can be declared.",
  "type": "object",
  "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_-]*(\\.[A-Za-z_][A-Za-z0-9_-]*)+$", "maxLength": 255},
  "additionalProperties": {
    "type": "object",
    "propertyNames": {"pattern": "^/([A-Za-z0-9_]+(/[A-Za-z0-9_]+)*)?$"},
    "additionalProperties": {
      "type": "object",
      "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+$", "maxLength": 255},
      "additionalProperties": {
        "type": "object",
        "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "maxLength": 255},
        "description": "Property name -> value, converted to the property's D-Bus type"
      }
    }
  }
})JSON";

struct PropertyRef {
  std::string service, path, interface, name;
  std::string id() const { return service + " " + path + " " + interface + "." + name; }
};

// Every property a section declares, with its JSON pointer relative to the section.
template <typename Visit>
void for_each_property(const Json& section, Visit visit) {
  for (const auto& [service, objects] : section.items())
    for (const auto& [path, interfaces] : objects.items())
      for (const auto& [interface, properties] : interfaces.items())
        for (const auto& [name, value] : properties.items()) {
          auto pointer = pointer_append(
              pointer_append(pointer_append(pointer_append("", service), path), interface), name);
          visit(PropertyRef{service, path, interface, name}, value, pointer);
        }
}

Result<PropertyRef> parse_id(const std::string& id) {
  auto first = id.find(' '), second = id.find(' ', first + 1), dot = id.rfind('.');
  if (first == std::string::npos || second == std::string::npos || dot < second)
    return fail(ErrorCode::internal, "malformed dbus change id '{}'", id);
  return PropertyRef{id.substr(0, first), id.substr(first + 1, second - first - 1),
                     id.substr(second + 1, dot - second - 1), id.substr(dot + 1)};
}

// Whether `value` holds an integer JSON cannot carry exactly (beyond +-2^53).
bool has_inexact_integer(const Json& value) {
  constexpr uint64_t kExact = uint64_t{1} << 53;
  if (value.is_number_unsigned()) return value.get<uint64_t>() > kExact;
  if (value.is_number_integer()) {
    auto n = value.get<int64_t>();
    return n > int64_t(kExact) || n < -int64_t(kExact);
  }
  if (value.is_structured())
    for (const auto& item : value)
      if (has_inexact_integer(item)) return true;
  return false;
}

// The declared value as query() reads it back: a variant given as {"signature", "value"} is
// its value; an integer given as a decimal string within +-2^53 is a number.
Json comparable(const PropertyInfo* info, const Json& value) {
  if (!info) return value;
  if (info->type == "v" && value.is_object() && value.size() == 2 && value.contains("signature") &&
      value.contains("value"))
    return value["value"];
  if (info->type.size() == 1 &&
      std::string_view("ynqiuxt").find(info->type[0]) != std::string_view::npos &&
      value.is_string()) {
    char* end = nullptr;
    const auto& text = value.get_ref<const std::string&>();
    long long n = std::strtoll(text.c_str(), &end, 10);
    if (!text.empty() && *end == '\0' && n <= (1LL << 53) && n >= -(1LL << 53)) return Json(n);
  }
  return value;
}

Json& slot(Json& state, const PropertyRef& ref) {
  return state[ref.service][ref.path][ref.interface][ref.name];
}

Result<Json> read_interface(dbus::Bus& bus, const std::string& service, const std::string& path,
                            const std::string& interface) {
  auto reply = TRY(with_context(
      bus.call({service, path, kProperties, "GetAll", "s", Json::array({interface}), kReadTimeout}),
      fmt::format("read {} {} {}", service, path, interface)));
  return reply.at(0);
}

class DbusPlugin final : public Plugin {
 public:
  explicit DbusPlugin(DbusSettings settings) : settings_(std::move(settings)) {}

  const PluginDescriptor& descriptor() const override { return dbus_descriptor(); }

  Availability probe() override {
    auto bus = dbus::Bus::open(settings_.bus_address);
    if (!bus) return {false, bus.error().describe()};
    auto triples = readable_interfaces();
    if (!triples) return {false, triples.error().describe()};
    return {true, fmt::format("{} interfaces with readable properties in the discovery index",
                              triples->size())};
  }

  std::vector<Problem> validate(const Json& section,
                                const std::string& base_pointer) const override {
    auto bus = dbus::Bus::open(settings_.bus_address);
    std::error_code error;
    if (!bus && !std::filesystem::exists(settings_.index, error)) return {};  // nothing to check
    Catalog catalog(bus ? &*bus : nullptr, settings_.index);
    std::vector<Problem> problems;
    for_each_property(
        section, [&](const PropertyRef& ref, const Json& value, const std::string& pointer) {
          auto problem = check_property(catalog, bus ? &*bus : nullptr, ref, value, pointer);
          if (!problem.empty()) problems.push_back({base_pointer + pointer, problem});
        });
    return problems;
  }

  Result<Json> query() override {
    auto bus = TRY(dbus::Bus::open(settings_.bus_address));
    Json state = Json::object();
    for (const auto& [service, path, interface] : TRY(readable_interfaces())) {
      auto values = read_interface(bus, service, path, interface);
      if (values) state[service][path][interface] = std::move(*values);
    }
    return state;
  }

  Result<Json> query_for(const Json& desired) override {
    auto bus = TRY(dbus::Bus::open(settings_.bus_address));
    Json state = Json::object();
    for (const auto& [service, objects] : desired.items())
      for (const auto& [path, interfaces] : objects.items())
        for (const auto& [interface, properties] : interfaces.items())
          state[service][path][interface] = TRY(read_interface(bus, service, path, interface));
    return state;
  }

  Result<std::vector<Change>> diff(const Json& current, const Json& desired) override {
    auto bus = dbus::Bus::open(settings_.bus_address);
    Catalog catalog(bus ? &*bus : nullptr, settings_.index);
    std::vector<Change> changes;
    for_each_property(
        desired, [&](const PropertyRef& ref, const Json& value, const std::string& pointer) {
          auto have = current.contains(json_pointer(ref)) ? current.at(json_pointer(ref)) : Json();
          auto info = catalog.property(ref.service, ref.path, ref.interface, ref.name);
          if (have == comparable(info ? &*info : nullptr, value)) return;
          changes.push_back(make_change("dbus", "property", ref.id(), ChangeOp::modify,
                                        {{"value", have}}, {{"value", value}}, false, pointer));
        });
    return changes;
  }

  Result<ApplyReport> apply(const std::vector<Change>& changes) override {
    auto bus = TRY(dbus::Bus::open(settings_.bus_address));
    Catalog catalog(&bus, settings_.index);
    ApplyReport report;
    for (const auto& change : changes) {
      auto ref = TRY(parse_id(change.id));
      auto info = TRY(catalog.property(ref.service, ref.path, ref.interface, ref.name));
      Json variant = {{"signature", info.type}, {"value", change.after.at("value")}};
      TRY(with_context(bus.call({ref.service, ref.path, kProperties, "Set", "ssv",
                                 Json::array({ref.interface, ref.name, variant})}),
                       "set " + change.id));
      ++report.writes;
    }
    return report;
  }

  Result<Snapshot> checkpoint_of(const Json&, const std::vector<Change>& changes) override {
    Json data = Json::object();
    for (const auto& change : changes)
      if (!change.before.at("value").is_null())
        slot(data, TRY(parse_id(change.id))) = change.before.at("value");
    return Snapshot{"dbus", data};
  }

  Result<ApplyReport> restore(const Snapshot& snapshot) override {
    auto current = TRY(query_for(snapshot.data));
    return apply(TRY(diff(current, snapshot.data)));
  }

  Result<std::unique_ptr<Watch>> watch(WatchCallback callback) override {
    auto watch = std::make_unique<BusWatch>(TRY(dbus::Bus::open(settings_.bus_address)));
    TRY(watch->add({"", "", kProperties, "PropertiesChanged"}, [callback](
                                                                   const dbus::SignalEvent& event) {
      callback({"dbus", "property",
                event.sender + " " + event.path + " " + event.arguments.at(0).get<std::string>(),
                ""});
    }));
    return std::unique_ptr<Watch>(std::move(watch));
  }

  // Only the writable properties of `target` can be declared.
  Json exact_desired(const Json& target, const Json&) const override {
    auto bus = dbus::Bus::open(settings_.bus_address);
    Catalog catalog(bus ? &*bus : nullptr, settings_.index);
    Json desired = Json::object();
    for_each_property(target, [&](const PropertyRef& ref, const Json& value, const std::string&) {
      auto info = catalog.property(ref.service, ref.path, ref.interface, ref.name);
      if (info && info->writable()) slot(desired, ref) = value;
    });
    return desired;
  }

 private:
  static Json::json_pointer json_pointer(const PropertyRef& ref) {
    return Json::json_pointer(pointer_append(
        pointer_append(pointer_append(pointer_append("", ref.service), ref.path), ref.interface),
        ref.name));
  }

  static std::string check_property(Catalog& catalog, dbus::Bus* bus, const PropertyRef& ref,
                                    const Json& value, const std::string& pointer) {
    auto info = catalog.property(ref.service, ref.path, ref.interface, ref.name);
    if (!info) return info.error().describe();
    if (has_inexact_integer(value))
      return fmt::format(
          "{} holds an integer beyond +-2^53, which JSON cannot carry exactly; "
          "write it as a decimal string",
          ref.name);
    if (!info->writable())
      return fmt::format(
          "{}.{} is read-only (access '{}'); only writable properties can be "
          "declared",
          ref.interface, ref.name, info->access);
    if (bus) {
      auto checked = bus->check_value(info->type, value, pointer);
      if (!checked)
        return fmt::format("not a valid '{}' for {}: {}", info->type, ref.name,
                           checked.error().message);
    }
    return {};
  }

  // (service, path, interface) of every running service's readable properties in the index.
  Result<std::vector<std::tuple<std::string, std::string, std::string>>> readable_interfaces()
      const {
    std::error_code error;
    if (!std::filesystem::exists(settings_.index, error))
      return fail(ErrorCode::unavailable, "no discovery index at {}; run 'op-dbus discover' first",
                  settings_.index.string());
    auto db = TRY(Database::open(settings_.index));
    auto rows = TRY(db.prepare(
        "SELECT DISTINCT m.service, m.path, m.interface FROM members m JOIN services s "
        "ON s.name = m.service WHERE s.running = 1 AND m.kind = 'property' AND m.access != 'write'"
        " ORDER BY 1, 2, 3"));
    std::vector<std::tuple<std::string, std::string, std::string>> out;
    while (TRY(rows.step())) out.emplace_back(rows.text(0), rows.text(1), rows.text(2));
    return out;
  }

  DbusSettings settings_;
};

}  // namespace

const PluginDescriptor& dbus_descriptor() {
  static const PluginDescriptor descriptor{
      .name = "dbus",
      .version = "1",
      .description = "properties of any D-Bus service, found by op-dbus discover",
      .schema = Json::parse(kSchema),
      .read_only_fields = {},
      .apply_after = {"net", "systemd"},
  };
  return descriptor;
}

std::unique_ptr<Plugin> make_dbus_plugin(DbusSettings settings) {
  return std::make_unique<DbusPlugin>(std::move(settings));
}

}  // namespace opdbus::dbusplugin
