// Context: everything an operation needs, owned in one place and passed by reference (no
// globals): configuration and the plugin registry (later also the ledger and vector index).
#pragma once

#include <filesystem>
#include <string>

#include "plugin/registry.h"

namespace opdbus {

struct Config {
  std::filesystem::path state_dir = "/var/lib/op-dbus";
  std::string netns;  // empty: the namespace op-dbus was started in
};

struct Context {
  Config config;
  Registry registry;
};

}  // namespace opdbus
