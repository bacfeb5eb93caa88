// D-Bus introspection: parsing org.freedesktop.DBus.Introspectable XML (expat) and walking a
// service's object tree, through ObjectManager.GetManagedObjects where a node offers it and
// recursive Introspect otherwise.
// Invariants: a document over 4 MiB or with over 100,000 elements is refused; a walk stops with
// an error past max_objects or its deadline, so a broken or hostile service cannot hang us;
// each object is introspected at most once.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/json_util.h"
#include "base/result.h"
#include "proto/dbus/bus.h"

namespace opdbus::dbus {

struct Argument {
  std::string name;
  std::string type;
};

struct Method {
  std::string name;
  std::vector<Argument> in;
  std::vector<Argument> out;
};

struct Property {
  std::string name;
  std::string type;
  std::string access;  // read, write, readwrite
};

struct Signal {
  std::string name;
  std::vector<Argument> args;
};

struct Interface {
  std::string name;
  std::vector<Method> methods;
  std::vector<Property> properties;
  std::vector<Signal> signals;
};

struct Node {
  std::vector<Interface> interfaces;
  std::vector<std::string> children;  // relative names of child nodes
};

Result<Node> parse_introspection(std::string_view xml);

struct ObjectInfo {
  std::string path;
  std::vector<Interface> interfaces;
};

struct WalkLimits {
  size_t max_objects = 10000;
  std::chrono::milliseconds call_timeout{2000};
  std::chrono::milliseconds deadline{10000};
};

// One object's interfaces and children, from its Introspect method.
Result<Node> introspect_object(Bus& bus, const std::string& service, const std::string& path,
                               std::chrono::milliseconds timeout);

Result<std::vector<ObjectInfo>> walk_service(Bus& bus, const std::string& service,
                                             const WalkLimits& limits = {});

// Members with their signatures and access; each method also with a JSON Schema of its input
// and output arguments (type_schema.h), so it can be offered as a tool.
Json interface_json(const Interface& interface);

}  // namespace opdbus::dbus
