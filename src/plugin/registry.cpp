// Plugin registry; see registry.h.
#include "plugin/registry.h"

#include <algorithm>
#include <set>

namespace opdbus {

Status Registry::add(std::unique_ptr<Plugin> plugin) {
  const auto& name = plugin->descriptor().name;
  if (find(name)) return fail(ErrorCode::internal, "plugin '{}' registered twice", name);
  plugins_.push_back(std::move(plugin));
  return ok();
}

Plugin* Registry::find(const std::string& name) const {
  for (const auto& plugin : plugins_)
    if (plugin->descriptor().name == name) return plugin.get();
  return nullptr;
}

std::vector<std::string> Registry::names() const {
  std::vector<std::string> out;
  for (const auto& plugin : plugins_) out.push_back(plugin->descriptor().name);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Plugin*> Registry::ordered() const {
  std::vector<Plugin*> out;
  std::set<std::string> placed;
  while (out.size() < plugins_.size()) {
    size_t before = out.size();
    for (const auto& plugin : plugins_) {
      const auto& descriptor = plugin->descriptor();
      if (placed.count(descriptor.name)) continue;
      bool ready =
          std::all_of(descriptor.apply_after.begin(), descriptor.apply_after.end(),
                      [&](const std::string& dep) { return placed.count(dep) || !find(dep); });
      if (!ready) continue;
      out.push_back(plugin.get());
      placed.insert(descriptor.name);
    }
    if (out.size() == before) {  // a cycle: keep registration order for the rest
      for (const auto& plugin : plugins_)
        if (!placed.count(plugin->descriptor().name)) out.push_back(plugin.get());
    }
  }
  return out;
}

}  // namespace opdbus
