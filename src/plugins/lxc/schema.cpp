// The lxc plugin's descriptor: the JSON Schema of its section and its read-only fields.
#include "plugins/lxc/lxc_plugin.h"

namespace opdbus::lxcplugin {
namespace {

constexpr const char* kSchema = R"JSON({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "lxc",
  "description": "LXC containers by name, in the host's LXC directory (--lxc-path).",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "containers": {"type": "object", "additionalProperties": {"$ref": "#/definitions/container"}}
  },
  "definitions": {
    "container": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "state": {"type": "string", "enum": ["running", "stopped", "absent"],
                  "description": "running (default), stopped, or absent (destroyed with its root filesystem)"},
        "mode": {"type": "string", "enum": ["enforce", "observe"]},
        "template": {"type": "string", "minLength": 1,
                     "description": "the LXC template a new container is created from (busybox, download, ...)"},
        "template_options": {"type": "array", "items": {"type": "string"}},
        "rootfs": {
          "type": "object", "additionalProperties": false,
          "properties": {
            "clone_from": {"type": "string", "description": "a golden container a new one is cloned from"},
            "backing": {"type": "string", "enum": ["dir", "btrfs"],
                        "description": "the root filesystem's store; btrfs clones are subvolume snapshots"}
          }
        },
        "autostart": {"type": "boolean"},
        "config": {"type": "object",
                   "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
                   "description": "lxc.* keys (null clears one) and the aliases limits.memory, limits.cpus (cpus)"},
        "network": {"type": "array", "items": {"$ref": "#/definitions/interface"},
                    "description": "the complete list of the container's interfaces"},
        "mesh": {"type": ["string", "null"], "description": "the mesh the container is enrolled in"},
        "init_pid": {"type": "integer", "description": "read-only"}
      }
    },
    "interface": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "type": {"type": "string", "enum": ["veth", "empty"]},
        "link": {"type": "string", "description": "the Linux bridge the host end joins"},
        "ovs_bridge": {"type": "string", "description": "the OVS bridge the host end joins"},
        "name": {"type": "string", "description": "the name inside the container (default ethN)"},
        "hwaddr": {"type": "string"},
        "ipv4": {"type": "string", "description": "ADDRESS/LENGTH"},
        "gateway": {"type": "string"},
        "mtu": {"type": "integer", "minimum": 68, "maximum": 65535},
        "host_name": {"type": "string", "description": "read-only: the host end's name"}
      }
    }
  }
})JSON";

}  // namespace

const PluginDescriptor& lxc_descriptor() {
  static const PluginDescriptor descriptor{
      .name = "lxc",
      .version = "1",
      .description = "LXC containers through liblxc",
      .schema = Json::parse(kSchema),
      .read_only_fields = {"/containers/*/init_pid", "/containers/*/network/*/host_name"},
      .apply_after = {"net", "ovs", "mesh"},
  };
  return descriptor;
}

}  // namespace opdbus::lxcplugin
