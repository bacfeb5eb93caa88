// The mesh plugin's descriptor: the JSON Schema of its section and its read-only fields.
#include "plugins/mesh/mesh_plugin.h"

namespace opdbus::meshplugin {
namespace {

constexpr const char* kSchema = R"JSON({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "mesh",
  "description": "WireGuard meshes by name: this host's interface in each, and its containers that declare the mesh (lxc containers' \"mesh\").",
  "type": "object",
  "additionalProperties": {"$ref": "#/definitions/mesh"},
  "definitions": {
    "mesh": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "state": {"type": "string", "enum": ["present", "absent"]},
        "mode": {"type": "string", "enum": ["enforce", "observe"]},
        "cidr": {"type": "string", "description": "the whole mesh, IPv4 ADDRESS/LENGTH"},
        "prefix": {"type": "string", "description": "this host's share of the cidr (default: all of it); members get addresses from it"},
        "interface": {"type": "string", "maxLength": 15, "description": "the host's WireGuard interface (default wg-NAME)"},
        "listen_port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "endpoint": {"type": "string", "description": "ADDRESS:PORT other hosts reach this one at"},
        "container_endpoint": {"type": "string", "description": "ADDRESS:PORT containers reach this host at (default: their gateway)"},
        "implementation": {"type": "string", "enum": ["auto", "kernel", "userspace"]},
        "public_key": {"type": "string", "description": "read-only: this host's key in the mesh"},
        "address": {"type": "string", "description": "read-only: this host's address in the mesh"},
        "members": {"type": "object", "description": "read-only: containers and their addresses"},
        "hosts": {"type": "object", "description": "read-only: joined hosts"},
        "in_sync": {"type": "boolean", "description": "read-only: the interface has exactly the peers it should"}
      }
    }
  }
})JSON";

}  // namespace

const PluginDescriptor& mesh_descriptor() {
  static const PluginDescriptor descriptor{
      .name = "mesh",
      .version = "1",
      .description = "WireGuard meshes joining this host, its containers and other hosts",
      .schema = Json::parse(kSchema),
      .read_only_fields = {"/*/public_key", "/*/address", "/*/members", "/*/hosts", "/*/in_sync"},
      .apply_after = {"net"},
  };
  return descriptor;
}

}  // namespace opdbus::meshplugin
