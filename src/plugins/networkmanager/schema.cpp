// The networkmanager plugin's descriptor: the JSON Schema of its section and its read-only
// fields (the single source for validation, docs and MCP tool schemas).
#include "plugins/networkmanager/nm_plugin.h"

namespace opdbus::nm {
namespace {

constexpr const char* kSchema = R"JSON({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "networkmanager",
  "description": "NetworkManager connection profiles by id, through org.freedesktop.NetworkManager. Only declared fields are compared.",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "connections": {"type": "object", "additionalProperties": {"$ref": "#/definitions/connection"},
                    "propertyNames": {"minLength": 1, "maxLength": 255}}
  },
  "definitions": {
    "ip": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "method": {"type": "string", "enum": ["auto", "manual", "disabled", "link-local", "shared", "ignore", "dhcp"]},
        "addresses": {"type": "array", "items": {"type": "string"}, "description": "ADDRESS/PREFIX, the complete list"},
        "gateway": {"type": "string"},
        "dns": {"type": "array", "items": {"type": "string"}}
      }
    },
    "connection": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "type": {"type": "string", "description": "ethernet, bridge, bond, vlan, wifi, or a NetworkManager type name"},
        "interface": {"type": "string", "minLength": 1, "maxLength": 15},
        "autoconnect": {"type": "boolean"},
        "controller": {"type": "string", "description": "interface name of the bridge or bond this is a port of"},
        "port_type": {"type": "string", "enum": ["bridge", "bond"]},
        "ipv4": {"$ref": "#/definitions/ip"},
        "ipv6": {"$ref": "#/definitions/ip"},
        "vlan": {"type": "object", "additionalProperties": false,
                 "properties": {"parent": {"type": "string"}, "id": {"type": "integer", "minimum": 0, "maximum": 4094}}},
        "bond": {"type": "object", "additionalProperties": false,
                 "properties": {"mode": {"type": "string"}, "options": {"type": "object", "additionalProperties": {"type": "string"}}}},
        "bridge": {"type": "object", "additionalProperties": false, "properties": {"stp": {"type": "boolean"}}},
        "state": {"type": "string", "enum": ["active", "inactive", "absent"]},
        "mode": {"type": "string", "enum": ["enforce", "observe"],
                 "description": "enforce (default) changes the host; observe only reports drift"},
        "uuid": {"type": "string", "description": "read-only"}
      }
    }
  }
})JSON";

}  // namespace

const PluginDescriptor& networkmanager_descriptor() {
  static const PluginDescriptor descriptor{
      .name = "networkmanager",
      .version = "1",
      .description = "NetworkManager connection profiles (org.freedesktop.NetworkManager)",
      .schema = Json::parse(kSchema),
      .read_only_fields = {"/connections/*/uuid"},
      .apply_after = {"net"},
  };
  return descriptor;
}

}  // namespace opdbus::nm
