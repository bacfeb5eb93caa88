// The `timedate` plugin: org.freedesktop.timedate1 (systemd-timedated). The timezone and NTP
// are declarable. The clock itself and the RTC mode are never set: op-dbus does not call
// SetTime or SetLocalRTC (changing the wall clock is not configuration management).
#include <filesystem>

#include "plugins/settings/settings_plugins.h"

namespace opdbus::settings {
namespace {

constexpr const char* kSchema = R"JSON({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "timedate",
  "description": "Timezone and NTP through org.freedesktop.timedate1 (systemd-timedated).",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "timezone": {"type": "string", "pattern": "^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$",
                 "description": "an IANA zone such as Europe/Berlin or UTC"},
    "ntp": {"type": "boolean", "description": "network time synchronisation on"},
    "local_rtc": {"type": "boolean", "description": "read-only: the RTC keeps local time"},
    "can_ntp": {"type": "boolean", "description": "read-only: an NTP service is available"},
    "ntp_synchronized": {"type": "boolean", "description": "read-only"}
  }
})JSON";

std::vector<Problem> check_timezone(const Json& section) {
  auto zone = section.value("timezone", "");
  std::error_code error;  // the schema's pattern keeps '.' (and so "..") out of zone names
  if (zone.empty() || std::filesystem::is_regular_file("/usr/share/zoneinfo/" + zone, error))
    return {};
  return {
      {"/timezone", fmt::format("unknown timezone '{}' (no /usr/share/zoneinfo/{})", zone, zone)}};
}

}  // namespace

MethodService timedate_service() {
  MethodService service{
      .descriptor = {},
      .service = "org.freedesktop.timedate1",
      .path = "/org/freedesktop/timedate1",
      .interface = "org.freedesktop.timedate1",
      .fields = {{"timezone", "Timezone", "SetTimezone", "s"},
                 {"ntp", "NTP", "SetNTP", "b"},
                 {"local_rtc", "LocalRTC", "", "b"},
                 {"can_ntp", "CanNTP", "", "b"},
                 {"ntp_synchronized", "NTPSynchronized", "", "b"}},
      .check = check_timezone,
  };
  service.descriptor = {
      .name = "timedate",
      .version = "1",
      .description = "timezone and NTP (org.freedesktop.timedate1); never the clock itself",
      .schema = Json::parse(kSchema),
      .read_only_fields = read_only_pointers(service.fields),
      .apply_after = {},
  };
  return service;
}

}  // namespace opdbus::settings
