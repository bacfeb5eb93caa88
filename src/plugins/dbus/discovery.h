// Discovery of every service on a bus: its names (running and activatable), and for running ones
// every object, interface, method, property and signal with their signatures and access, kept in
// an SQLite index so the next run can say what appeared and what vanished.
// Invariants: only running services are walked (discovery never activates a service); one broken
// service is recorded with its error and does not stop the others; the index is replaced in one
// transaction.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/json_util.h"
#include "base/result.h"
#include "proto/dbus/bus.h"
#include "proto/dbus/introspect.h"

namespace opdbus::dbusplugin {

struct DiscoveredService {
  std::string name;
  bool running = false;
  bool activatable = false;
  std::string error;  // why it could not be walked, if it could not
  std::vector<dbus::ObjectInfo> objects;
};

Result<std::vector<DiscoveredService>> discover(dbus::Bus& bus, const dbus::WalkLimits& limits);

// "SERVICE PATH INTERFACE" lines that appeared or vanished since the previous index.
struct IndexChanges {
  std::vector<std::string> appeared;
  std::vector<std::string> vanished;
};
Result<IndexChanges> replace_index(const std::filesystem::path& database,
                                   const std::vector<DiscoveredService>& services);

Json discovery_json(const std::vector<DiscoveredService>& services);

}  // namespace opdbus::dbusplugin
