// The lxc plugin: glue between the plugin contract, the pure model and liblxc (proto/lxc).
// What LXC's config cannot hold (the template a container came from, which OVS bridge each veth
// joins, its mesh) is kept beside the config (proto/lxc/metadata.h). A container in a mesh gets
// LXC hooks that enroll it when it starts and take it out when it stops (`op-dbus mesh enroll`). An
// apply handles one container at a time: create (template or clone), configure and save, then
// start, stop or restart; destroying comes last, since nothing can bring a destroyed root
// filesystem back.
#include "plugins/lxc/lxc_plugin.h"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "base/fs.h"
#include "plugins/lxc/model.h"
#include "plugins/lxc/watch.h"
#include "proto/lxc/container.h"
#include "proto/lxc/metadata.h"

namespace opdbus::lxcplugin {
namespace {

bool host_has_cgroup2() {
  std::error_code error;
  return std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers", error);
}

Json read_sidecar(const lxc::Container& container) {
  return lxc::read_metadata(container.directory());
}

// The container's veths that join OVS bridges: (index, bridge).
std::vector<std::pair<size_t, std::string>> ovs_attachments(const Json& sidecar) {
  std::vector<std::pair<size_t, std::string>> out;
  const auto bridges = sidecar.value("ovs_bridges", Json::object());
  for (const auto& [index, bridge] : bridges.items())
    out.emplace_back(std::stoul(index), bridge.get<std::string>());
  return out;
}

// The keys set in the container's config file, in order, without duplicates.
std::vector<std::string> config_keys(const lxc::Container& container) {
  std::ifstream in(container.directory() / "config");
  std::vector<std::string> keys;
  std::set<std::string> seen;
  for (std::string line; std::getline(in, line);) {
    auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    auto equals = line.find('=', start);
    if (equals == std::string::npos) continue;
    auto key = line.substr(start, line.find_last_not_of(" \t", equals - 1) - start + 1);
    if (seen.insert(key).second) keys.push_back(key);
  }
  return keys;
}

Json network_json(const lxc::Container& container, const Json& sidecar) {
  Json out = Json::array();
  auto types = container.config_item("lxc.net").value_or("");
  size_t index = 0;
  for (size_t start = 0; start < types.size(); ++index) {
    auto end = types.find('\n', start);
    auto prefix = "lxc.net." + std::to_string(index) + ".";
    Json entry = {{"type", types.substr(start, end - start)}};
    start = end == std::string::npos ? types.size() : end + 1;
    auto item = [&](const char* key) { return container.config_item(prefix + key); };
    auto first_line = [](std::string text) { return text.substr(0, text.find('\n')); };
    if (auto value = item("name")) entry["name"] = *value;
    if (auto value = item("link")) entry["link"] = *value;
    if (auto value = item("hwaddr")) entry["hwaddr"] = *value;
    if (auto value = item("ipv4.address")) entry["ipv4"] = first_line(*value);
    if (auto value = item("ipv4.gateway")) entry["gateway"] = *value;
    if (auto value = item("mtu"); value && !value->empty()) entry["mtu"] = std::stoi(*value);
    if (auto value = item("veth.pair")) entry["host_name"] = *value;
    auto ovs = sidecar.value("ovs_bridges", Json::object()).value(std::to_string(index), "");
    if (!ovs.empty()) entry["ovs_bridge"] = ovs;
    out.push_back(entry);
  }
  return out;
}

// The store a root filesystem is on: "btrfs" for a BTRFS subvolume (its root inode is 256),
// LXC's "type:" prefix when it has one, else "dir".
std::string backing_of(const std::string& rootfs) {
  auto colon = rootfs.find(':');
  auto path = colon == std::string::npos ? rootfs : rootfs.substr(colon + 1);
  struct statfs filesystem {};
  struct stat status {};
  if (::statfs(path.c_str(), &filesystem) == 0 && filesystem.f_type == BTRFS_SUPER_MAGIC &&
      ::stat(path.c_str(), &status) == 0 && status.st_ino == 256)
    return "btrfs";
  return colon == std::string::npos ? "dir" : rootfs.substr(0, colon);
}

Json container_json(const lxc::Container& container) {
  auto sidecar = read_sidecar(container);
  Json config = Json::object();
  for (const auto& key : config_keys(container))
    if (!managed_key(key))
      if (auto value = container.config_item(key)) config[key] = *value;
  auto rootfs = container.config_item("lxc.rootfs.path").value_or("");
  Json out = {{"state", container.running() ? "running" : "stopped"},
              {"autostart", container.config_item("lxc.start.auto").value_or("0") == "1"},
              {"rootfs", {{"backing", backing_of(rootfs)}}},
              {"config", config},
              {"network", network_json(container, sidecar)}};
  for (const char* field : {"template", "template_options", "mesh"})
    if (sidecar.contains(field)) out[field] = sidecar[field];
  if (container.running()) out["init_pid"] = container.init_pid();
  return out;
}

// The container's interfaces as declarable entries (without their host names and MACs).
Json declarable_network(const lxc::Container& container) {
  auto network = network_json(container, read_sidecar(container));
  for (auto& entry : network) {
    entry.erase("host_name");
    entry.erase("hwaddr");
  }
  return network;
}

// A stable locally administered MAC (LXC's 00:16:3e prefix) for a container's interface.
std::string stable_hwaddr(const std::string& container, size_t index) {
  auto hash = stable_hash(fmt::format("{}/{}", container, index));
  return fmt::format("00:16:3e:{:02x}:{:02x}:{:02x}", (hash >> 16) & 0x7f, (hash >> 8) & 0xff,
                     hash & 0xff);
}

class LxcPlugin final : public Plugin {
 public:
  explicit LxcPlugin(LxcSettings settings) : settings_(std::move(settings)) {
    if (settings_.path.empty()) settings_.path = lxc::default_path();
    if (settings_.state_directory.empty())
      settings_.state_directory = std::filesystem::temp_directory_path() / "op-dbus";
  }

  const PluginDescriptor& descriptor() const override { return lxc_descriptor(); }

  Availability probe() override {
    auto names = lxc::defined_containers(settings_.path);
    if (!names) return {false, names.error().describe()};
    return {true, fmt::format("liblxc, containers in {} ({} defined)", settings_.path.string(),
                              names->size())};
  }

  std::vector<Problem> validate(const Json& section,
                                const std::string& base_pointer) const override {
    return validate_containers(section, base_pointer);
  }

  Result<Json> query() override {
    Json containers = Json::object();
    for (const auto& name : TRY(lxc::defined_containers(settings_.path))) {
      auto container = TRY(lxc::Container::open(name, settings_.path));
      containers[name] = container_json(container);
    }
    return Json{{"containers", containers}};
  }

  Result<std::vector<Change>> diff(const Json& current, const Json& desired) override {
    return plan_containers(current, desired, host_has_cgroup2());
  }

  Result<ApplyReport> apply(const std::vector<Change>& changes) override {
    ApplyReport report;
    for (const auto* change : creation_order(changes)) report.writes += TRY(apply_change(*change));
    for (const auto& change : changes)
      if (change.op == ChangeOp::remove) report.writes += TRY(destroy(change.id));
    return report;
  }

  // The changes other than removals, a clone after the golden container it is cloned from when
  // the same apply creates that one.
  static std::vector<const Change*> creation_order(const std::vector<Change>& changes) {
    std::vector<const Change*> pending, ordered;
    for (const auto& change : changes)
      if (change.op != ChangeOp::remove) pending.push_back(&change);
    while (!pending.empty()) {
      auto waits = [&](const Change* change) {
        auto golden = change->after.is_object()
                          ? change->after.value("rootfs", Json::object()).value("clone_from", "")
                          : "";
        return std::any_of(pending.begin(), pending.end(), [&](const Change* other) {
          return other != change && other->id == golden;
        });
      };
      auto ready = std::stable_partition(pending.begin(), pending.end(),
                                         [&](const Change* change) { return !waits(change); });
      if (ready == pending.begin()) ready = pending.end();  // a cycle: leave it to liblxc's errors
      ordered.insert(ordered.end(), pending.begin(), ready);
      pending.erase(pending.begin(), ready);
    }
    return ordered;
  }

  Result<Snapshot> checkpoint_of(const Json& current, const std::vector<Change>& changes) override {
    return Snapshot{"lxc", checkpoint_containers(current, changes)};
  }

  Result<ApplyReport> restore(const Snapshot& snapshot) override {
    auto current = TRY(query());
    return apply(TRY(plan_containers(current, snapshot.data, host_has_cgroup2())));
  }

  Result<std::unique_ptr<Watch>> watch(WatchCallback callback) override {
    return make_lxc_watch(settings_.path, std::move(callback));
  }

  Json exact_desired(const Json& target, const Json& current) const override {
    return exact_containers(target, current);
  }

 private:
  Result<lxc::Container> open(const std::string& name) {
    auto container = TRY(lxc::Container::open(name, settings_.path));
    auto logs = settings_.state_directory / "lxc";
    TRY(ensure_directory(logs, 0700));
    TRY(container.log_to(logs / (name + ".log")));
    return container;
  }

  Result<size_t> apply_change(const Change& change) {
    auto container = TRY(open(change.id));
    size_t writes = 0;
    auto after = change.after;
    if (change.op == ChangeOp::create) {
      container = TRY(create(container, after));
      ++writes;
      // A clone carries its golden container's interfaces: they get names of their own.
      if (!after.contains("network")) after["network"] = declarable_network(container);
    }
    if (after.contains("autostart") || after.contains("config") || after.contains("network") ||
        after.contains("mesh") || change.op == ChangeOp::create) {
      TRY(configure(container, after));
      ++writes;
    }
    auto state = after.value("state", "");
    if (after.value("restart", false) || state == "stopped") {
      TRY(stop(container));
      ++writes;
    }
    if (after.value("restart", false) || state == "running") {
      TRY(start(container));
      ++writes;
    }
    return writes;
  }

  Result<lxc::Container> create(lxc::Container& container, const Json& after) {
    const auto rootfs = after.value("rootfs", Json::object());
    if (rootfs.contains("clone_from")) {
      auto golden = TRY(open(rootfs["clone_from"].get<std::string>()));
      if (!golden.defined())
        return fail(ErrorCode::not_found, "container {}: its golden container {} does not exist",
                    container.name(), golden.name());
      auto golden_backing = backing_of(golden.config_item("lxc.rootfs.path").value_or(""));
      bool snapshot = rootfs.value("backing", "") == "btrfs" || golden_backing == "btrfs";
      TRY(golden.clone(container.name(), snapshot));
      return open(container.name());
    }
    std::vector<std::string> options;
    for (const auto& option : after.value("template_options", Json::array()))
      options.push_back(option.get<std::string>());
    TRY(container.create(after["template"].get<std::string>(), options,
                         rootfs.value("backing", "dir")));
    return open(container.name());
  }

  // Writes the declared autostart, config and network, and the sidecar, then saves the config;
  // cgroup keys are also set live on a running container.
  Status configure(lxc::Container& container, const Json& after) {
    auto sidecar = read_sidecar(container);
    if (after.contains("autostart"))
      TRY(container.set_config_item("lxc.start.auto", after["autostart"].get<bool>() ? "1" : "0"));
    const auto config = after.value("config", Json::object());
    for (const auto& [key, value] : config.items()) {
      // Many keys are lists that a set appends to: the declared value replaces the whole list.
      if (container.config_item(key)) TRY(container.clear_config_item(key));
      if (value.is_null()) continue;
      auto text = value.get<std::string>();
      for (size_t start = 0; start < text.size();) {
        auto end = std::min(text.find('\n', start), text.size());
        TRY(container.set_config_item(key, text.substr(start, end - start)));
        start = end + 1;
      }
      if (container.running() &&
          (key.starts_with("lxc.cgroup2.") || key.starts_with("lxc.cgroup.")))
        TRY(container.set_cgroup_item(key.substr(key.find('.', 4) + 1), value.get<std::string>()));
    }
    if (after.contains("network")) TRY(write_network(container, after["network"], sidecar));
    if (after.contains("mesh")) TRY(write_mesh_hooks(container, after["mesh"]));
    for (const char* field : {"template", "template_options", "mesh"})
      if (after.contains(field)) sidecar[field] = after[field];
    TRY(container.save_config());
    return lxc::write_metadata(container.directory(), sidecar);
  }

  Status write_network(lxc::Container& container, const Json& network, Json& sidecar) {
    auto previous = network_json(container, sidecar);
    TRY(container.clear_config_item("lxc.net"));
    sidecar["ovs_bridges"] = Json::object();
    for (size_t i = 0; i < network.size(); ++i) {
      const auto& entry = network[i];
      auto prefix = "lxc.net." + std::to_string(i) + ".";
      auto type = entry.value("type", "veth");
      TRY(container.set_config_item(prefix + "type", type));
      if (type == "empty") continue;
      TRY(container.set_config_item(prefix + "flags", "up"));
      TRY(container.set_config_item(prefix + "name",
                                    entry.value("name", "eth" + std::to_string(i))));
      TRY(container.set_config_item(prefix + "veth.pair",
                                    host_interface_name(container.name(), i)));
      auto hwaddr = i < previous.size() ? previous[i].value("hwaddr", "") : "";
      TRY(container.set_config_item(
          prefix + "hwaddr",
          entry.value("hwaddr", hwaddr.empty() ? stable_hwaddr(container.name(), i) : hwaddr)));
      if (entry.contains("link")) TRY(container.set_config_item(prefix + "link", entry["link"]));
      if (entry.contains("ipv4"))
        TRY(container.set_config_item(prefix + "ipv4.address", entry["ipv4"]));
      if (entry.contains("gateway"))
        TRY(container.set_config_item(prefix + "ipv4.gateway", entry["gateway"]));
      if (entry.contains("mtu"))
        TRY(container.set_config_item(prefix + "mtu", std::to_string(entry["mtu"].get<int>())));
      if (entry.contains("ovs_bridge"))
        sidecar["ovs_bridges"][std::to_string(i)] = entry["ovs_bridge"];
    }
    return ok();
  }

  // A container in a mesh is enrolled by its start-host hook (after its network is set up, before
  // its init runs) and taken out by its post-stop hook; LXC appends NAME, "lxc" and the hook type.
  Status write_mesh_hooks(lxc::Container& container, const Json& mesh) {
    for (const char* hook : {"lxc.hook.start-host", "lxc.hook.post-stop"})
      if (container.config_item(hook)) TRY(container.clear_config_item(hook));
    if (mesh.is_null()) return ok();
    if (settings_.mesh_command.empty())
      return fail(ErrorCode::unavailable, "container {}: this op-dbus cannot run mesh hooks",
                  container.name());
    auto name = mesh.get<std::string>();
    TRY(container.set_config_item("lxc.hook.start-host",
                                  settings_.mesh_command + " mesh enroll " + name));
    return container.set_config_item("lxc.hook.post-stop",
                                     settings_.mesh_command + " mesh leave " + name);
  }

  // Starts the container and joins its veths to their OVS bridges.
  Status start(lxc::Container& container) {
    if (!container.running()) TRY(container.start());
    for (const auto& [index, bridge] : ovs_attachments(read_sidecar(container))) {
      if (!settings_.attach_ovs_port)
        return fail(ErrorCode::unavailable, "container {}: no OVSDB to join bridge {}",
                    container.name(), bridge);
      TRY(settings_.attach_ovs_port(bridge, host_interface_name(container.name(), index)));
    }
    return ok();
  }

  Status stop(lxc::Container& container) { return container.stop(settings_.stop_timeout); }

  Result<size_t> destroy(const std::string& name) {
    auto container = TRY(open(name));
    if (!container.defined()) return size_t{0};
    TRY(stop(container));
    for (const auto& [index, bridge] : ovs_attachments(read_sidecar(container)))
      if (settings_.detach_ovs_port)
        TRY(settings_.detach_ovs_port(host_interface_name(name, index)));
    TRY(container.destroy());
    return size_t{1};
  }

  LxcSettings settings_;
};

}  // namespace

std::unique_ptr<Plugin> make_lxc_plugin(LxcSettings settings) {
  return std::make_unique<LxcPlugin>(std::move(settings));
}

}  // namespace opdbus::lxcplugin
