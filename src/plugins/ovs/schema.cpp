// The ovs plugin's descriptor: the JSON Schema of its section and its read-only fields.
#include "plugins/ovs/ovs_plugin.h"

namespace opdbus::ovs {
namespace {

constexpr const char* kSchema = R"JSON({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "ovs",
  "description": "Open vSwitch bridges and their ports, through OVSDB. A bridge's ports list is the complete set (its own internal port is implicit).",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "bridges": {"type": "array", "items": {"$ref": "#/definitions/bridge"}}
  },
  "definitions": {
    "name": {"type": "string", "minLength": 1, "maxLength": 15, "pattern": "^[^/\\s]+$"},
    "map": {"type": "object", "additionalProperties": {"type": "string"}},
    "bridge": {
      "type": "object", "additionalProperties": false, "required": ["name"],
      "properties": {
        "name": {"$ref": "#/definitions/name"},
        "datapath_type": {"type": "string", "description": "system (kernel) or netdev (userspace)"},
        "fail_mode": {"type": ["string", "null"], "enum": ["standalone", "secure", null]},
        "stp_enable": {"type": "boolean"},
        "other_config": {"$ref": "#/definitions/map"},
        "external_ids": {"$ref": "#/definitions/map"},
        "ports": {"type": "array", "items": {"$ref": "#/definitions/port"}},
        "state": {"type": "string", "enum": ["present", "absent"]},
        "mode": {"type": "string", "enum": ["enforce", "observe"],
                 "description": "enforce (default) changes the host; observe only reports drift"}
      }
    },
    "port": {
      "type": "object", "additionalProperties": false, "required": ["name"],
      "properties": {
        "name": {"$ref": "#/definitions/name"},
        "type": {"type": "string", "description": "system, internal, patch, vxlan, geneve, gre, ..."},
        "tag": {"type": ["integer", "null"], "minimum": 0, "maximum": 4095},
        "trunks": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 4095}},
        "vlan_mode": {"type": ["string", "null"],
                      "enum": ["access", "native-tagged", "native-untagged", "trunk", "dot1q-tunnel", null]},
        "options": {"$ref": "#/definitions/map"},
        "external_ids": {"$ref": "#/definitions/map"},
        "error": {"type": "string", "description": "read-only: what ovs-vswitchd reported for the interface"}
      }
    }
  }
})JSON";

}  // namespace

const PluginDescriptor& ovs_descriptor() {
  static const PluginDescriptor descriptor{
      .name = "ovs",
      .version = "1",
      .description = "Open vSwitch bridges and ports over OVSDB (RFC 7047)",
      .schema = Json::parse(kSchema),
      .read_only_fields = {"/bridges/*/ports/*/error"},
      .apply_after = {"net"},
  };
  return descriptor;
}

}  // namespace opdbus::ovs
