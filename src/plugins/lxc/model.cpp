// The lxc plugin's pure logic; see model.h.
#include "plugins/lxc/model.h"

#include <regex>
#include <set>

#include "proto/netlink/ip_address.h"

namespace opdbus::lxcplugin {
namespace {

bool is_cgroup_key(const std::string& key) {
  return key.starts_with("lxc.cgroup.") || key.starts_with("lxc.cgroup2.");
}

std::string config_text(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "1" : "0";
  return value.dump();
}

// Whether every declared field of each desired network entry matches the entry at its index.
bool network_matches(const Json& have, const Json& wanted) {
  if (have.size() != wanted.size()) return false;
  for (size_t i = 0; i < wanted.size(); ++i) {
    Json declared = wanted[i];
    if (!declared.contains("type")) declared["type"] = "veth";
    if (!declared.contains("name")) declared["name"] = "eth" + std::to_string(i);
    if (!declared_fields_match(have[i], declared)) return false;
  }
  return true;
}

void check_network(const Json& network, const std::string& pointer,
                   std::vector<Problem>& problems) {
  static const std::regex mac("^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$");
  std::set<std::string> names;
  for (size_t i = 0; i < network.size(); ++i) {
    const auto& entry = network[i];
    auto at = pointer_append(pointer, i);
    if (entry.contains("link") && entry.contains("ovs_bridge"))
      problems.push_back({at, "link (a Linux bridge) and ovs_bridge are exclusive"});
    if (entry.value("type", "veth") != "veth" && entry.contains("ovs_bridge"))
      problems.push_back({pointer_append(at, "ovs_bridge"), "only a veth can join an OVS bridge"});
    if (entry.contains("ipv4")) {
      auto text = entry["ipv4"].get<std::string>();
      auto slash = text.find('/');
      auto address = netlink::IpAddress::parse(text.substr(0, slash));
      if (slash == std::string::npos || !address || address->length() != 4 ||
          !netlink::Prefix::parse(text))
        problems.push_back({pointer_append(at, "ipv4"), "'" + text + "' is not ADDRESS/LENGTH"});
    }
    if (entry.contains("gateway")) {
      auto gateway = netlink::IpAddress::parse(entry["gateway"].get<std::string>());
      if (!gateway || gateway->length() != 4)
        problems.push_back({pointer_append(at, "gateway"), "not an IPv4 address"});
    }
    if (entry.contains("hwaddr") && !std::regex_match(entry["hwaddr"].get<std::string>(), mac))
      problems.push_back({pointer_append(at, "hwaddr"), "not a MAC address (aa:bb:cc:dd:ee:ff)"});
    auto name = entry.value("name", "eth" + std::to_string(i));
    if (!names.insert(name).second)
      problems.push_back({pointer_append(at, "name"), "two interfaces named " + name});
  }
}

void check_config(const Json& config, const std::string& pointer, std::vector<Problem>& problems) {
  for (const auto& [key, value] : config.items()) {
    auto at = pointer_append(pointer, key);
    auto resolved = config_key(key, true);
    if (!resolved.starts_with("lxc."))
      problems.push_back({at, "not an LXC key (lxc.*) or one of limits.memory, limits.cpus, cpus"});
    else if (managed_key(resolved))
      problems.push_back({at, key + " is managed through network, autostart or rootfs"});
    (void)value;
  }
}

struct Planner {
  bool cgroup2;
  std::vector<Change> changes;

  void add(std::string name, ChangeOp op, Json before, Json after, bool observe,
           std::string pointer) {
    changes.push_back(make_change("lxc", "container", std::move(name), op, std::move(before),
                                  std::move(after), observe, std::move(pointer)));
  }

  Json resolved_config(const Json& config) const {
    Json out = Json::object();
    for (const auto& [key, value] : config.items())
      out[config_key(key, cgroup2)] = value.is_null() ? Json() : Json(config_text(value));
    return out;
  }

  Status create(const std::string& name, const Json& item, const std::string& pointer,
                bool observe) {
    if (!item.contains("template") && !item.contains("rootfs"))
      return fail(ErrorCode::invalid_input,
                  "container {} does not exist and declares neither template nor "
                  "rootfs.clone_from to create it from ({})",
                  name, pointer);
    Json after = item;
    after.erase("mode");
    if (!after.contains("state")) after["state"] = "running";
    if (after.contains("config")) after["config"] = resolved_config(after["config"]);
    add(name, ChangeOp::create, Json(), after, observe, pointer);
    return ok();
  }

  void modify(const std::string& name, const Json& have, const Json& item,
              const std::string& pointer, bool observe) {
    Json before = Json::object(), after = Json::object();
    bool restart_needed = false;
    if (item.contains("autostart") && item["autostart"] != have.value("autostart", false)) {
      before["autostart"] = have.value("autostart", false);
      after["autostart"] = item["autostart"];
    }
    if (item.contains("config")) {
      const auto current = have.value("config", Json::object());
      const auto wanted = resolved_config(item["config"]);
      for (const auto& [key, value] : wanted.items()) {
        auto is = current.value(key, Json());
        if (is == value) continue;
        before["config"][key] = is;
        after["config"][key] = value;
        restart_needed |= !is_cgroup_key(key);
      }
    }
    if (item.contains("mesh") && item["mesh"] != have.value("mesh", Json())) {
      before["mesh"] = have.value("mesh", Json());
      after["mesh"] = item["mesh"];
      restart_needed = true;  // its hooks enroll it when it starts
    }
    if (item.contains("network") &&
        !network_matches(have.value("network", Json::array()), item["network"])) {
      before["network"] = have.value("network", Json::array());
      after["network"] = item["network"];
      restart_needed = true;
    }
    auto state = item.value("state", "running");
    if (state != have.value("state", "")) {
      before["state"] = have["state"];
      after["state"] = state;
    } else if (state == "running" && restart_needed) {
      before["restart"] = false;
      after["restart"] = true;
    }
    if (!after.empty()) add(name, ChangeOp::modify, before, after, observe, pointer);
  }

  Status plan(const std::string& name, const Json* have, const Json& item,
              const std::string& pointer) {
    bool observe = item.value("mode", "enforce") == "observe";
    if (item.value("state", "") == "absent") {
      if (have) add(name, ChangeOp::remove, *have, Json(), observe, pointer);
      return ok();
    }
    if (!have) return create(name, item, pointer, observe);
    modify(name, *have, item, pointer, observe);
    return ok();
  }
};

Json without_read_only(Json container) {
  container.erase("init_pid");
  for (auto& entry : container["network"]) entry.erase("host_name");
  return container;
}

}  // namespace

std::string config_key(const std::string& key, bool cgroup2) {
  if (key == "limits.memory")
    return cgroup2 ? "lxc.cgroup2.memory.max" : "lxc.cgroup.memory.limit_in_bytes";
  if (key == "limits.cpus" || key == "cpus")
    return cgroup2 ? "lxc.cgroup2.cpuset.cpus" : "lxc.cgroup.cpuset.cpus";
  return key;
}

bool managed_key(const std::string& key) {
  return key.starts_with("lxc.net") || key == "lxc.uts.name" || key == "lxc.start.auto" ||
         key.starts_with("lxc.rootfs") || key == "lxc.include" || key.starts_with("lxc.log") ||
         key == "lxc.hook.start-host" || key == "lxc.hook.post-stop";
}

uint32_t stable_hash(std::string_view text) {
  uint32_t hash = 2166136261U;  // FNV-1a
  for (unsigned char c : text) hash = (hash ^ c) * 16777619U;
  return hash;
}

std::string host_interface_name(const std::string& container, size_t index) {
  auto plain = fmt::format("lx{}-{}", container, index);
  if (plain.size() <= 15) return plain;
  return fmt::format("lx{:08x}-{}", stable_hash(container), index);
}

std::vector<Problem> validate_containers(const Json& section, const std::string& base_pointer) {
  static const std::regex name("^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$");
  std::vector<Problem> problems;
  const auto containers = section.value("containers", Json::object());
  for (const auto& [container, item] : containers.items()) {
    auto pointer = pointer_append(pointer_append(base_pointer, "containers"), container);
    if (!std::regex_match(container, name))
      problems.push_back({pointer, "'" + container + "' is not a valid container name"});
    if (item.contains("template") && item.contains("rootfs") &&
        item["rootfs"].contains("clone_from"))
      problems.push_back({pointer_append(pointer, "template"),
                          "declare either template or rootfs.clone_from, not both"});
    check_network(item.value("network", Json::array()), pointer_append(pointer, "network"),
                  problems);
    check_config(item.value("config", Json::object()), pointer_append(pointer, "config"), problems);
  }
  return problems;
}

Result<std::vector<Change>> plan_containers(const Json& current, const Json& desired,
                                            bool cgroup2) {
  Planner planner{cgroup2, {}};
  const auto existing = current.value("containers", Json::object());
  const auto wanted = desired.value("containers", Json::object());
  for (const auto& [name, item] : wanted.items()) {
    const Json* have = existing.contains(name) ? &existing[name] : nullptr;
    TRY(planner.plan(name, have, item, pointer_append("/containers", name)));
  }
  return std::move(planner.changes);
}

Json checkpoint_containers(const Json& current, const std::vector<Change>& changes) {
  const auto existing = current.value("containers", Json::object());
  Json out = Json::object();
  for (const auto& change : changes) {
    if (!existing.contains(change.id)) {
      out[change.id] = {{"state", "absent"}};
      continue;
    }
    auto container = without_read_only(existing[change.id]);
    // Keys the change adds are cleared again by a restore.
    const auto added =
        change.after.is_object() ? change.after.value("config", Json::object()) : Json::object();
    for (const auto& [key, value] : added.items())
      if (!container["config"].contains(key)) container["config"][key] = nullptr;
    out[change.id] = container;
  }
  return {{"containers", out}};
}

Json exact_containers(const Json& target, const Json& current) {
  return {
      {"containers", exact_named(target.value("containers", Json::object()),
                                 current.value("containers", Json::object()), without_read_only)}};
}

}  // namespace opdbus::lxcplugin
