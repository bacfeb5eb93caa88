// The lxc plugin's pure logic: containers as read through liblxc <-> the plugin's shape,
// validation, the diff, and the desired sections for checkpoints and rollback.
// Shape: {"containers": {NAME: {"state": "running"|"stopped", "autostart", "template",
//   "template_options", "rootfs": {"backing", "clone_from"}, "config": {"lxc.KEY": "VALUE"},
//   "network": [{"type", "link", "ovs_bridge", "name", "hwaddr", "ipv4", "gateway", "mtu",
//   "host_name"}], "mesh", "init_pid"}}}.
// Invariants: only declared fields are compared (template and rootfs only matter when creating);
// `network` is the complete list; config aliases (limits.memory, limits.cpus, cpus) are resolved
// to LXC keys before comparing; a running container whose network or non-cgroup configuration
// changes is restarted, and the plan says so ("restart": true).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plugin/plugin.h"

namespace opdbus::lxcplugin {

// The LXC key an alias or key stands for, given the host's cgroup version.
std::string config_key(const std::string& key, bool cgroup2);
// Keys the plugin manages through other fields (network, autostart, rootfs, name, mesh hooks).
bool managed_key(const std::string& key);
// A hash of `text` that never changes between runs or builds (FNV-1a), for derived names.
uint32_t stable_hash(std::string_view text);
// The host-side name of a container's veth `index` (at most 15 characters, stable).
std::string host_interface_name(const std::string& container, size_t index);

std::vector<Problem> validate_containers(const Json& section, const std::string& base_pointer);
Result<std::vector<Change>> plan_containers(const Json& current, const Json& desired, bool cgroup2);
Json checkpoint_containers(const Json& current, const std::vector<Change>& changes);
Json exact_containers(const Json& target, const Json& current);

}  // namespace opdbus::lxcplugin
