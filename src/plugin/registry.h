// Registry: the plugins known to this process, registered explicitly (no static-init magic).
// Invariant: names are unique; iteration order is apply order (apply_after respected).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "plugin/plugin.h"

namespace opdbus {

class Registry {
 public:
  Status add(std::unique_ptr<Plugin> plugin);
  Plugin* find(const std::string& name) const;
  std::vector<std::string> names() const;
  // Plugins in dependency order (each after the plugins named in its apply_after).
  std::vector<Plugin*> ordered() const;

 private:
  std::vector<std::unique_ptr<Plugin>> plugins_;
};

}  // namespace opdbus
