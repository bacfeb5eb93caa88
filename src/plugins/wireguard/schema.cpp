// The wireguard plugin's descriptor: the JSON Schema of its section and its read-only fields.
#include "plugins/wireguard/wireguard_plugin.h"

namespace opdbus::wg {
namespace {

constexpr const char* kSchema = R"JSON({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "wireguard",
  "description": "WireGuard interfaces by name. A declared peers list is the complete set of the interface's peers; private keys live only in key files, never in the state.",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "interfaces": {
      "type": "object",
      "propertyNames": {"minLength": 1, "maxLength": 15, "pattern": "^[^/\\s:]+$"},
      "additionalProperties": {"$ref": "#/definitions/interface"}
    }
  },
  "definitions": {
    "prefix": {"type": "string", "description": "ADDRESS/LENGTH"},
    "interface": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "state": {"type": "string", "enum": ["present", "absent"]},
        "mode": {"type": "string", "enum": ["enforce", "observe"],
                 "description": "enforce (default) changes the host; observe only reports drift"},
        "implementation": {"type": "string", "enum": ["auto", "kernel", "userspace"],
                           "description": "auto (default): the kernel's when it has WireGuard, else the userspace program"},
        "private_key_file": {"type": "string",
                             "description": "absolute path of the base64 private key; created (mode 0600) when missing"},
        "public_key": {"type": "string", "description": "read-only: derived from the private key"},
        "listen_port": {"type": "integer", "minimum": 0, "maximum": 65535},
        "fwmark": {"type": "integer", "minimum": 0, "maximum": 4294967295},
        "addresses": {"type": "array", "items": {"$ref": "#/definitions/prefix"},
                      "description": "the complete set of the interface's addresses"},
        "peers": {"type": "array", "items": {"$ref": "#/definitions/peer"}}
      }
    },
    "peer": {
      "type": "object", "additionalProperties": false, "required": ["public_key"],
      "properties": {
        "public_key": {"type": "string", "minLength": 44, "maxLength": 44},
        "endpoint": {"type": "string", "description": "ADDRESS:PORT or [IPv6]:PORT"},
        "allowed_ips": {"type": "array", "items": {"$ref": "#/definitions/prefix"}},
        "persistent_keepalive": {"type": "integer", "minimum": 0, "maximum": 65535},
        "preshared_key_file": {"type": ["string", "null"],
                               "description": "absolute path of the base64 preshared key; null removes it"},
        "preshared_key_sha256": {"type": "string", "description": "read-only: names the preshared key set"},
        "latest_handshake": {"type": "integer", "description": "read-only: Unix time, 0 never"},
        "rx_bytes": {"type": "integer", "description": "read-only"},
        "tx_bytes": {"type": "integer", "description": "read-only"}
      }
    }
  }
})JSON";

}  // namespace

const PluginDescriptor& wireguard_descriptor() {
  static const PluginDescriptor descriptor{
      .name = "wireguard",
      .version = "1",
      .description = "WireGuard interfaces and peers (kernel genetlink or the userspace UAPI)",
      .schema = Json::parse(kSchema),
      .read_only_fields = {"/interfaces/*/public_key", "/interfaces/*/peers/*/preshared_key_sha256",
                           "/interfaces/*/peers/*/latest_handshake",
                           "/interfaces/*/peers/*/rx_bytes", "/interfaces/*/peers/*/tx_bytes"},
      .apply_after = {"net"},
  };
  return descriptor;
}

}  // namespace opdbus::wg
