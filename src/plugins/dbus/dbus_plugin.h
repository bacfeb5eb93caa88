// The `dbus` plugin: properties of any service on the bus as state,
// {"SERVICE": {"OBJECT_PATH": {"INTERFACE": {"Property": value}}}}. Every readable property of
// a discovered service is queried; writable ones can be declared and are set through
// org.freedesktop.DBus.Properties.Set with the introspected signature.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "plugin/plugin.h"

namespace opdbus::dbusplugin {

struct DbusSettings {
  std::string bus_address;      // empty: the system bus
  std::filesystem::path index;  // the discovery index (STATE_DIR/discovery.sqlite)
};

std::unique_ptr<Plugin> make_dbus_plugin(DbusSettings settings);
const PluginDescriptor& dbus_descriptor();

}  // namespace opdbus::dbusplugin
