// The `hostname` plugin: org.freedesktop.hostname1 (systemd-hostnamed). Static and pretty
// hostname, icon, chassis, deployment and location are declarable; the transient hostname and
// the machine's description are reported.
#include <regex>

#include "plugins/settings/settings_plugins.h"

namespace opdbus::settings {
namespace {

constexpr const char* kSchema = R"JSON({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "hostname",
  "description": "Host names and machine information through org.freedesktop.hostname1 (systemd-hostnamed).",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "static_hostname": {"type": "string", "maxLength": 64,
                        "description": "/etc/hostname; empty to unset (the transient name is then used)"},
    "pretty_hostname": {"type": "string", "description": "free-form name for people"},
    "icon_name": {"type": "string", "pattern": "^[A-Za-z0-9_.-]*$"},
    "chassis": {"type": "string",
                "enum": ["", "desktop", "laptop", "convertible", "server", "tablet", "handset", "watch", "embedded", "vm", "container"]},
    "deployment": {"type": "string", "pattern": "^[^\\s]*$", "description": "development, staging, production, ..."},
    "location": {"type": "string", "description": "where the machine is: rack, room, site"},
    "hostname": {"type": "string", "description": "read-only: the transient (kernel) hostname"},
    "operating_system": {"type": "string", "description": "read-only: PRETTY_NAME of os-release"},
    "kernel_release": {"type": "string", "description": "read-only"}
  }
})JSON";

// RFC 1123 labels, as systemd's hostname_is_valid() requires of a static hostname.
std::vector<Problem> check_hostname(const Json& section) {
  static const std::regex kHostname(
      "^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])"
      "?)*$");
  auto name = section.value("static_hostname", "");
  if (name.empty() || std::regex_match(name, kHostname)) return {};
  return {{"/static_hostname",
           fmt::format("'{}' is not a valid hostname: dot-separated labels of letters, digits "
                       "and inner hyphens",
                       name)}};
}

}  // namespace

MethodService hostname_service() {
  MethodService service{
      .descriptor = {},
      .service = "org.freedesktop.hostname1",
      .path = "/org/freedesktop/hostname1",
      .interface = "org.freedesktop.hostname1",
      .fields = {{"static_hostname", "StaticHostname", "SetStaticHostname", "s"},
                 {"pretty_hostname", "PrettyHostname", "SetPrettyHostname", "s"},
                 {"icon_name", "IconName", "SetIconName", "s"},
                 {"chassis", "Chassis", "SetChassis", "s"},
                 {"deployment", "Deployment", "SetDeployment", "s"},
                 {"location", "Location", "SetLocation", "s"},
                 {"hostname", "Hostname", "", "s"},
                 {"operating_system", "OperatingSystemPrettyName", "", "s"},
                 {"kernel_release", "KernelRelease", "", "s"}},
      .check = check_hostname,
  };
  service.descriptor = {
      .name = "hostname",
      .version = "1",
      .description = "host names and machine information (org.freedesktop.hostname1)",
      .schema = Json::parse(kSchema),
      .read_only_fields = read_only_pointers(service.fields),
      .apply_after = {},
  };
  return service;
}

}  // namespace opdbus::settings
