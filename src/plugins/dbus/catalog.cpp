// Property catalog; see catalog.h.
#include "plugins/dbus/catalog.h"

#include "base/sqlite.h"
#include "proto/dbus/introspect.h"

namespace opdbus::dbusplugin {
namespace {

constexpr std::chrono::milliseconds kIntrospectTimeout{2000};

}  // namespace

Result<Catalog::ObjectProperties> Catalog::introspected(const std::string& service,
                                                        const std::string& path) {
  if (!bus_) return fail(ErrorCode::unavailable, "no bus connection");
  auto node = TRY(dbus::introspect_object(*bus_, service, path, kIntrospectTimeout));
  ObjectProperties out;
  for (const auto& interface : node.interfaces) {
    auto& properties = out[interface.name];
    for (const auto& property : interface.properties)
      properties[property.name] = {property.type, property.access};
  }
  return out;
}

Result<Catalog::ObjectProperties> Catalog::indexed(const std::string& service,
                                                   const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(index_, error))
    return fail(ErrorCode::not_found, "no discovery index at {}", index_.string());
  auto db = TRY(Database::open(index_));
  auto rows =
      TRY(db.prepare("SELECT interface, kind, name, signature, access FROM members WHERE service = "
                     "? AND path = ?"));
  TRY(rows.bind(1, service));
  TRY(rows.bind(2, path));
  ObjectProperties out;
  while (TRY(rows.step())) {
    auto& properties = out[rows.text(0)];
    if (rows.text(1) == "property") properties[rows.text(2)] = {rows.text(3), rows.text(4)};
  }
  if (out.empty())
    return fail(ErrorCode::not_found, "{} {} is not in the discovery index", service, path);
  return out;
}

Result<const Catalog::ObjectProperties*> Catalog::object(const std::string& service,
                                                         const std::string& path) {
  auto key = service + " " + path;
  if (auto it = cache_.find(key); it != cache_.end()) return &it->second;
  auto live = introspected(service, path);
  if (!live) {
    auto offline = indexed(service, path);
    if (!offline)
      return fail(live.error().code, "{} {}: {} (and {})", service, path, live.error().describe(),
                  offline.error().describe());
    live = std::move(offline);
  }
  return &cache_.emplace(key, std::move(*live)).first->second;
}

Result<const InterfaceProperties*> Catalog::interface(const std::string& service,
                                                      const std::string& path,
                                                      const std::string& interface) {
  const auto* object_properties = TRY(object(service, path));
  auto it = object_properties->find(interface);
  if (it == object_properties->end())
    return fail(ErrorCode::not_found, "{} {} has no interface {} (it has: {})", service, path,
                interface, key_list(*object_properties));
  return &it->second;
}

Result<PropertyInfo> Catalog::property(const std::string& service, const std::string& path,
                                       const std::string& interface, const std::string& name) {
  const auto* properties = TRY(this->interface(service, path, interface));
  auto it = properties->find(name);
  if (it == properties->end())
    return fail(ErrorCode::not_found, "{} has no property {} (properties: {})", interface, name,
                key_list(*properties));
  return it->second;
}

}  // namespace opdbus::dbusplugin
