// The daemon's configuration file; see config.h.
#include "daemon/config.h"

#include "base/fs.h"

namespace opdbus::daemon {

Result<DaemonConfig> parse_daemon_config(const Json& json) {
  if (!json.is_object()) return fail(ErrorCode::invalid_input, "the config must be a JSON object");
  for (const auto& item : json.items())
    if (item.key() != "placement" && item.key() != "placement_device")
      return fail(ErrorCode::invalid_input, "unknown key '{}' (known: placement, placement_device)",
                  item.key());
  for (const char* key : {"placement", "placement_device"})
    if (json.contains(key) && !json[key].is_string())
      return fail(ErrorCode::invalid_input, "{} must be a string", key);
  DaemonConfig config;
  config.placement = TRY(topology::PlacementPolicy::parse(json.value("placement", "auto"),
                                                          json.value("placement_device", "")));
  return config;
}

Result<DaemonConfig> load_daemon_config(const std::filesystem::path& file) {
  auto text = TRY(read_file(file));
  auto json = Json::parse(text, nullptr, false);
  if (json.is_discarded())
    return fail(ErrorCode::invalid_input, "{}: not valid JSON", file.string());
  return with_context(parse_daemon_config(json), file.string());
}

}  // namespace opdbus::daemon
