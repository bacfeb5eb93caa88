// The net plugin's descriptor: the JSON Schema of the `net` section and its read-only fields.
// This schema is the single source for validation, docs and (later) MCP tool schemas.
#include "plugins/net/net_plugin.h"

namespace opdbus::net {
namespace {

constexpr const char* kSchema = R"JSON({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "net",
  "description": "Links, addresses and routes of a network namespace, managed over rtnetlink.",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "interfaces": {"type": "array", "items": {"$ref": "#/definitions/interface"}},
    "routes": {"type": "array", "items": {"$ref": "#/definitions/route"}}
  },
  "definitions": {
    "name": {"type": "string", "minLength": 1, "maxLength": 15, "pattern": "^[^/:\\s]+$"},
    "mode": {"type": "string", "enum": ["enforce", "observe"],
             "description": "enforce (default) changes the host; observe only reports drift"},
    "address": {
      "type": "object", "additionalProperties": false, "required": ["ip", "prefix"],
      "properties": {
        "ip": {"type": "string"},
        "prefix": {"type": "integer", "minimum": 0, "maximum": 128},
        "preferred_lifetime": {"type": "integer", "minimum": 0, "maximum": 4294967294},
        "valid_lifetime": {"type": "integer", "minimum": 0, "maximum": 4294967294}
      }
    },
    "ip_config": {
      "type": "object", "additionalProperties": false,
      "properties": {"address": {"type": "array", "items": {"$ref": "#/definitions/address"},
                                 "description": "the complete set of addresses of this family"}}
    },
    "interface": {
      "type": "object", "additionalProperties": false, "required": ["name"],
      "properties": {
        "name": {"$ref": "#/definitions/name"},
        "type": {"type": "string", "pattern": "^[a-z0-9_.-]+$",
                 "description": "bridge, veth, macvlan, vxlan, dummy, vlan, bond, ifb (creatable), or the kind of an existing link"},
        "state": {"type": "string", "enum": ["up", "down", "absent"]},
        "mode": {"$ref": "#/definitions/mode"},
        "mtu": {"type": "integer", "minimum": 68, "maximum": 2147483647},
        "mac_address": {"type": "string", "pattern": "^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$"},
        "master": {"type": ["string", "null"], "description": "bridge or bond this link is a port of; null for none"},
        "altnames": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 127}},
        "bridge": {"type": "object", "additionalProperties": false,
                   "properties": {"stp": {"type": "boolean"},
                                  "ports": {"type": "array", "items": {"$ref": "#/definitions/name"},
                                            "description": "the complete set of ports"}}},
        "veth": {"type": "object", "additionalProperties": false, "required": ["peer"],
                 "properties": {"peer": {"$ref": "#/definitions/name"}}},
        "vlan": {"type": "object", "additionalProperties": false,
                 "properties": {"base": {"$ref": "#/definitions/name"},
                                "id": {"type": "integer", "minimum": 0, "maximum": 4094},
                                "protocol": {"type": "string", "enum": ["802.1q", "802.1ad"]}}},
        "vxlan": {"type": "object", "additionalProperties": false,
                  "properties": {"id": {"type": "integer", "minimum": 0, "maximum": 16777215},
                                 "port": {"type": "integer", "minimum": 0, "maximum": 65535},
                                 "local": {"type": "string"}, "remote": {"type": "string"},
                                 "base": {"$ref": "#/definitions/name"}}},
        "macvlan": {"type": "object", "additionalProperties": false,
                    "properties": {"base": {"$ref": "#/definitions/name"},
                                   "mode": {"type": "string",
                                            "enum": ["private", "vepa", "bridge", "passthru", "source"]}}},
        "bond": {"type": "object", "additionalProperties": false,
                 "properties": {"mode": {"type": "string",
                                         "enum": ["balance-rr", "active-backup", "balance-xor", "broadcast",
                                                  "802.3ad", "balance-tlb", "balance-alb"]}}},
        "ipv4": {"$ref": "#/definitions/ip_config"},
        "ipv6": {"$ref": "#/definitions/ip_config"},
        "index": {"type": "integer", "description": "read-only: kernel ifindex"},
        "operstate": {"type": "string", "description": "read-only: RFC 2863 operational state"}
      }
    },
    "route": {
      "type": "object", "additionalProperties": false, "required": ["destination"],
      "properties": {
        "destination": {"type": "string", "description": "CIDR prefix, or \"default\""},
        "gateway": {"type": "string"},
        "dev": {"$ref": "#/definitions/name"},
        "metric": {"type": "integer", "minimum": 0, "maximum": 4294967295},
        "table": {"type": "integer", "minimum": 1, "maximum": 4294967295},
        "scope": {"type": "string", "enum": ["universe", "site", "link", "host"]},
        "type": {"type": "string", "enum": ["unicast", "blackhole", "unreachable", "prohibit"]},
        "state": {"type": "string", "enum": ["present", "absent"]},
        "mode": {"$ref": "#/definitions/mode"}
      }
    }
  }
})JSON";

PluginDescriptor build_descriptor() {
  PluginDescriptor descriptor;
  descriptor.name = "net";
  descriptor.version = "1.0.0";
  descriptor.description = "Links, addresses and routes over rtnetlink";
  descriptor.schema = Json::parse(kSchema);
  descriptor.read_only_fields = {"/interfaces/*/index", "/interfaces/*/operstate"};
  return descriptor;
}

}  // namespace

const PluginDescriptor& net_descriptor() {
  static const PluginDescriptor descriptor = build_descriptor();
  return descriptor;
}

}  // namespace opdbus::net
