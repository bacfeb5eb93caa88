// Plugins for services whose writes are methods, not properties (hostname1, timedate1): each
// declarable field is read from a D-Bus property and written by calling that field's setter
// method with (value, interactive=false). A table (MethodService) describes the service; one
// generic plugin does query, diff, apply, checkpoint and restore for all of them.
// Invariants: only fields with a setter can be declared (the rest are read-only and listed in
// the descriptor); setters run in table order; a checkpoint holds the declared fields' values.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "plugin/plugin.h"

namespace opdbus::settings {

struct MethodField {
  std::string key;       // in the state file: "static_hostname"
  std::string property;  // on the bus: "StaticHostname"
  std::string setter;    // "SetStaticHostname"; empty: read-only
  std::string type;      // D-Bus type of the property and the setter's value argument
};

struct MethodService {
  PluginDescriptor descriptor;  // its schema lists every field
  std::string service, path, interface;
  std::vector<MethodField> fields;
  // Semantic checks of a declared section (problems' pointers are relative to the section).
  std::function<std::vector<Problem>(const Json& section)> check;
};

std::unique_ptr<Plugin> make_method_plugin(MethodService service, std::string bus_address);

// The read-only fields of `fields` as descriptor pointers ("/hostname").
std::vector<std::string> read_only_pointers(const std::vector<MethodField>& fields);

}  // namespace opdbus::settings
