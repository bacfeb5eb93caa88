// Bus discovery and its SQLite index; see discovery.h.
#include "plugins/dbus/discovery.h"

#include <algorithm>
#include <map>
#include <set>

#include "base/sqlite.h"

namespace opdbus::dbusplugin {
namespace {

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS services(name TEXT PRIMARY KEY, running INTEGER, activatable INTEGER,
                                    error TEXT);
CREATE TABLE IF NOT EXISTS members(service TEXT, path TEXT, interface TEXT, kind TEXT, name TEXT,
                                   signature TEXT, access TEXT);
CREATE INDEX IF NOT EXISTS members_by_interface ON members(service, path, interface);
)";

Result<std::vector<std::string>> names(dbus::Bus& bus, const char* method) {
  auto reply = TRY(bus.call({"org.freedesktop.DBus", "/org/freedesktop/DBus",
                             "org.freedesktop.DBus", method, "", Json::array()}));
  std::vector<std::string> out;
  if (!reply.empty() && reply[0].is_array())
    for (const auto& name : reply[0])
      if (name.is_string() && name.get<std::string>()[0] != ':')
        out.push_back(name.get<std::string>());
  return out;
}

std::string signature_of(const std::vector<dbus::Argument>& arguments) {
  std::string out;
  for (const auto& argument : arguments) out += argument.type;
  return out;
}

Status insert_interface(Statement& insert, const std::string& service, const std::string& path,
                        const dbus::Interface& interface) {
  auto row = [&](const char* kind, const std::string& name, const std::string& signature,
                 const std::string& access) -> Status {
    TRY(insert.bind(1, service));
    TRY(insert.bind(2, path));
    TRY(insert.bind(3, interface.name));
    TRY(insert.bind(4, kind));
    TRY(insert.bind(5, name));
    TRY(insert.bind(6, signature));
    TRY(insert.bind(7, access));
    TRY(insert.step());
    return ok();
  };
  TRY(row("interface", "", "", ""));
  for (const auto& method : interface.methods)
    TRY(row("method", method.name, signature_of(method.in) + "->" + signature_of(method.out), ""));
  for (const auto& property : interface.properties)
    TRY(row("property", property.name, property.type, property.access));
  for (const auto& signal : interface.signals)
    TRY(row("signal", signal.name, signature_of(signal.args), ""));
  return ok();
}

Result<std::set<std::string>> indexed_interfaces(Database& db) {
  auto query =
      TRY(db.prepare("SELECT service, path, interface FROM members WHERE kind = 'interface'"));
  std::set<std::string> out;
  while (TRY(query.step())) out.insert(query.text(0) + " " + query.text(1) + " " + query.text(2));
  return out;
}

std::set<std::string> interfaces_of(const std::vector<DiscoveredService>& services) {
  std::set<std::string> out;
  for (const auto& service : services)
    for (const auto& object : service.objects)
      for (const auto& interface : object.interfaces)
        out.insert(service.name + " " + object.path + " " + interface.name);
  return out;
}

}  // namespace

Result<std::vector<DiscoveredService>> discover(dbus::Bus& bus, const dbus::WalkLimits& limits) {
  std::map<std::string, DiscoveredService> found;
  for (const auto& name : TRY(names(bus, "ListNames"))) {
    found[name].name = name;
    found[name].running = true;
  }
  for (const auto& name : TRY(names(bus, "ListActivatableNames"))) {
    found[name].name = name;
    found[name].activatable = true;
  }
  std::vector<DiscoveredService> out;
  for (auto& [name, service] : found) {
    if (service.running) {
      auto objects = dbus::walk_service(bus, name, limits);
      if (objects)
        service.objects = std::move(*objects);
      else
        service.error = objects.error().describe();
    }
    out.push_back(std::move(service));
  }
  return out;
}

Result<IndexChanges> replace_index(const std::filesystem::path& database,
                                   const std::vector<DiscoveredService>& services) {
  auto db = TRY(Database::open(database));
  TRY(db.run(kSchema));
  auto before = TRY(indexed_interfaces(db));
  TRY(db.run("BEGIN IMMEDIATE; DELETE FROM services; DELETE FROM members;"));
  auto written = [&]() -> Status {
    auto insert_service = TRY(db.prepare("INSERT INTO services VALUES (?, ?, ?, ?)"));
    auto insert_member = TRY(db.prepare("INSERT INTO members VALUES (?, ?, ?, ?, ?, ?, ?)"));
    for (const auto& service : services) {
      TRY(insert_service.bind(1, service.name));
      TRY(insert_service.bind(2, int64_t{service.running}));
      TRY(insert_service.bind(3, int64_t{service.activatable}));
      TRY(insert_service.bind(4, service.error));
      TRY(insert_service.step());
      for (const auto& object : service.objects)
        for (const auto& interface : object.interfaces)
          TRY(insert_interface(insert_member, service.name, object.path, interface));
    }
    return ok();
  }();
  if (!written) {
    (void)db.run("ROLLBACK");
    return make_failure(written.error());
  }
  TRY(db.run("COMMIT"));
  auto after = interfaces_of(services);
  IndexChanges changes;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(changes.appeared));
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                      std::back_inserter(changes.vanished));
  return changes;
}

Json discovery_json(const std::vector<DiscoveredService>& services) {
  Json out = Json::array();
  for (const auto& service : services) {
    Json objects = Json::object();
    for (const auto& object : service.objects) {
      Json interfaces = Json::object();
      for (const auto& interface : object.interfaces)
        interfaces[interface.name] = dbus::interface_json(interface);
      objects[object.path] = interfaces;
    }
    Json entry = {{"name", service.name},
                  {"running", service.running},
                  {"activatable", service.activatable},
                  {"objects", objects}};
    if (!service.error.empty()) entry["error"] = service.error;
    out.push_back(entry);
  }
  return out;
}

}  // namespace opdbus::dbusplugin
