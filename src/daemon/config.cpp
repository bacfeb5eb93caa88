// The daemon's configuration file; see config.h.
#include "daemon/config.h"

#include <algorithm>

#include "base/fs.h"

namespace opdbus::daemon {

namespace {

Status only_keys(const Json& object, std::initializer_list<const char*> known,
                 const std::string& where) {
  if (!object.is_object()) return fail(ErrorCode::invalid_input, "{} must be a JSON object", where);
  for (const auto& item : object.items())
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return item.key() == k; }))
      return fail(ErrorCode::invalid_input, "{}: unknown key '{}'", where, item.key());
  return ok();
}

Result<double> similarity(const Json& value, const std::string& where) {
  if (!value.is_number() || value.get<double>() < 0 || value.get<double>() > 1)
    return fail(ErrorCode::invalid_input, "{} must be a number from 0 to 1", where);
  return value.get<double>();
}

// A whole number of seconds of at least `minimum`, or `problem` as the error.
Result<std::chrono::seconds> seconds_at(const Json& value, int64_t minimum, const char* problem) {
  if (!value.is_number_integer() || value.get<int64_t>() < minimum)
    return fail(ErrorCode::invalid_input, "{}", problem);
  return std::chrono::seconds(value.get<int64_t>());
}

Status parse_anomaly(const Json& json, DaemonConfig& config) {
  TRY(only_keys(
      json, {"threshold", "plugins", "sample_interval", "persistence", "embedder", "auto_rollback"},
      "anomaly"));
  if (json.contains("embedder"))
    config.anomaly.embedder = TRY(ml::parse_embedder_config(json["embedder"], "anomaly.embedder"));
  if (json.contains("auto_rollback")) {
    if (!json["auto_rollback"].is_boolean())
      return fail(ErrorCode::invalid_input, "anomaly.auto_rollback must be true or false");
    config.auto_rollback = json["auto_rollback"].get<bool>();
    config.anomaly.recurring_is_normal = !config.auto_rollback;
  }
  if (json.contains("persistence")) {
    const auto& persistence = json["persistence"];
    if (!persistence.is_number_integer() || persistence.get<int64_t>() < 1 ||
        persistence.get<int64_t>() > 1000)
      return fail(ErrorCode::invalid_input, "anomaly.persistence must be a count from 1 to 1000");
    config.anomaly.persistence = persistence.get<int>();
  }
  if (json.contains("threshold"))
    config.anomaly.threshold = TRY(similarity(json["threshold"], "anomaly.threshold"));
  auto plugins = json.value("plugins", Json::object());
  if (!plugins.is_object())
    return fail(ErrorCode::invalid_input, "anomaly.plugins must be an object");
  for (const auto& item : plugins.items())
    config.anomaly.per_plugin[item.key()] =
        TRY(similarity(item.value(), "anomaly.plugins." + item.key()));
  if (json.contains("sample_interval"))
    config.sample_interval = TRY(seconds_at(json["sample_interval"], 0,
                                            "anomaly.sample_interval must be seconds (0: "
                                            "none)"));
  return ok();
}

Status parse_compliance(const Json& json, DaemonConfig& config) {
  TRY(only_keys(json, {"checks", "interval"}, "compliance"));
  if (!json.contains("checks") || !json["checks"].is_string() ||
      json["checks"].get<std::string>().empty())
    return fail(ErrorCode::invalid_input, "compliance.checks must name a check policy file");
  config.checks_file = json["checks"].get<std::string>();
  if (json.contains("interval"))
    config.checks_interval =
        TRY(seconds_at(json["interval"], 60, "compliance.interval must be seconds, at least 60"));
  return ok();
}

}  // namespace

Result<DaemonConfig> parse_daemon_config(const Json& json) {
  TRY(only_keys(json, {"placement", "placement_device", "anomaly", "access", "compliance"},
                "the config"));
  for (const char* key : {"placement", "placement_device"})
    if (json.contains(key) && !json[key].is_string())
      return fail(ErrorCode::invalid_input, "{} must be a string", key);
  DaemonConfig config;
  config.placement = TRY(topology::PlacementPolicy::parse(json.value("placement", "auto"),
                                                          json.value("placement_device", "")));
  if (json.contains("anomaly")) TRY(parse_anomaly(json["anomaly"], config));
  if (json.contains("access")) config.access = TRY(parse_access_policy(json["access"]));
  if (json.contains("compliance")) TRY(parse_compliance(json["compliance"], config));
  return config;
}

Result<DaemonConfig> load_daemon_config(const std::filesystem::path& file) {
  auto text = TRY(read_file(file));
  auto json = Json::parse(text, nullptr, false);
  if (json.is_discarded())
    return fail(ErrorCode::invalid_input, "{}: not valid JSON", file.string());
  return with_context(parse_daemon_config(json), file.string());
}

std::filesystem::path daemon_config_path(const std::filesystem::path& file) {
  std::error_code error;
  if (!file.empty() || !std::filesystem::exists(kDefaultDaemonConfig, error)) return file;
  return kDefaultDaemonConfig;
}

Result<DaemonConfig> load_daemon_config_or_defaults(const std::filesystem::path& file) {
  auto path = daemon_config_path(file);
  if (path.empty()) return parse_daemon_config(Json::object());
  return load_daemon_config(path);
}

}  // namespace opdbus::daemon
