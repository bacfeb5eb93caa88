// Where the dbus plugin learns each property's type and access: the object's live introspection
// when its service answers, else the discovery index (op-dbus discover), so a state file can be
// validated while a service is not running. Lookups are cached per object.
// Invariant: a lookup that fails names what is missing and lists what exists instead.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "base/result.h"
#include "proto/dbus/bus.h"

namespace opdbus::dbusplugin {

struct PropertyInfo {
  std::string type;
  std::string access;  // read, write, readwrite
  bool readable() const { return access != "write"; }
  bool writable() const { return access != "read"; }
};

using InterfaceProperties = std::map<std::string, PropertyInfo>;

class Catalog {
 public:
  // `bus` may be null (offline: the index only).
  Catalog(dbus::Bus* bus, std::filesystem::path index) : bus_(bus), index_(std::move(index)) {}

  Result<const InterfaceProperties*> interface(const std::string& service, const std::string& path,
                                               const std::string& interface);
  Result<PropertyInfo> property(const std::string& service, const std::string& path,
                                const std::string& interface, const std::string& name);

 private:
  using ObjectProperties = std::map<std::string, InterfaceProperties>;  // by interface
  Result<ObjectProperties> introspected(const std::string& service, const std::string& path);
  Result<ObjectProperties> indexed(const std::string& service, const std::string& path);
  Result<const ObjectProperties*> object(const std::string& service, const std::string& path);

  dbus::Bus* bus_;
  std::filesystem::path index_;
  std::map<std::string, ObjectProperties> cache_;  // by "SERVICE PATH"
};

// Comma-separated keys of a map, for "(it has: a, b)" messages.
template <typename Map>
std::string key_list(const Map& map) {
  std::string out;
  for (const auto& [key, value] : map) out += (out.empty() ? "" : ", ") + key;
  return out.empty() ? "none" : out;
}

}  // namespace opdbus::dbusplugin
