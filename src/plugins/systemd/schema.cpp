// The systemd plugin's descriptor: the JSON Schema of the `systemd` section and its read-only
// fields (the single source for validation, docs and MCP tool schemas).
#include "plugins/systemd/systemd_plugin.h"

namespace opdbus::systemd {
namespace {

constexpr const char* kSchema = R"JSON({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "systemd",
  "description": "systemd units: active state, enablement, masking and unit files, through org.freedesktop.systemd1.",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "units": {
      "type": "object",
      "description": "units by name (nginx.service, backup.timer, ...)",
      "propertyNames": {"maxLength": 255,
        "pattern": "^[A-Za-z0-9:_.\\\\@-]+\\.(service|socket|target|device|mount|automount|swap|timer|path|slice|scope)$"},
      "additionalProperties": {"$ref": "#/definitions/unit"}
    }
  },
  "definitions": {
    "unit": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "active_state": {"type": "string",
                         "description": "active or inactive to declare; query also reports failed, activating, deactivating, reloading"},
        "enabled": {"type": "boolean", "description": "installed into its [Install] targets"},
        "masked": {"type": "boolean", "description": "linked to /dev/null: cannot be started"},
        "unit_file": {"type": "string", "minLength": 1,
                      "description": "content of /etc/systemd/system/NAME, written atomically before the manager reloads"},
        "mode": {"type": "string", "enum": ["enforce", "observe"],
                 "description": "enforce (default) changes the host; observe only reports drift"},
        "load_state": {"type": "string", "description": "read-only: loaded, not-found, masked, ..."},
        "sub_state": {"type": "string", "description": "read-only: running, dead, exited, ..."},
        "unit_file_state": {"type": "string", "description": "read-only: enabled, disabled, static, ..."}
      }
    }
  }
})JSON";

}  // namespace

const PluginDescriptor& systemd_descriptor() {
  static const PluginDescriptor descriptor{
      .name = "systemd",
      .version = "1",
      .description = "systemd units over D-Bus (org.freedesktop.systemd1)",
      .schema = Json::parse(kSchema),
      .read_only_fields = {"/units/*/load_state", "/units/*/sub_state", "/units/*/unit_file_state"},
      .apply_after = {"net"},
  };
  return descriptor;
}

}  // namespace opdbus::systemd
