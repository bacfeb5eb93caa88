// The mesh plugin: glue between the plugin contract and src/mesh. The configuration applied to a
// mesh is kept in STATE/mesh/NAME/config.json, since the hook that enrolls a container runs as a
// separate process and must build the same mesh; query reports it with the interface as it is.
#include "plugins/mesh/mesh_plugin.h"

#include <sys/inotify.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/unique_fd.h"
#include "mesh/interface.h"
#include "proto/lxc/container.h"
#include "proto/lxc/metadata.h"

namespace opdbus::meshplugin {
namespace {

constexpr const char* kConfigFile = "config.json";
constexpr const char* kConfigFields[] = {"cidr",          "prefix",   "interface",
                                         "listen_port",   "endpoint", "container_endpoint",
                                         "implementation"};

Json declared_config(const Json& item) {
  Json out = Json::object();
  for (const auto* field : kConfigFields)
    if (item.contains(field)) out[field] = item[field];
  return out;
}

// The containers of `lxc_path` that declare `mesh`, with their init PIDs (0: not running).
Result<std::map<std::string, pid_t>> declaring_containers(const std::filesystem::path& lxc_path,
                                                          const std::string& mesh) {
  std::map<std::string, pid_t> out;
  auto path = lxc_path.empty() ? lxc::default_path() : lxc_path;
  std::error_code error;
  if (!std::filesystem::is_directory(path, error)) return out;  // no containers here
  const auto names = TRY(lxc::defined_containers(path));
  for (const auto& name : names) {
    if (lxc::read_metadata(path / name).value("mesh", Json()) != mesh) continue;
    auto container = TRY(lxc::Container::open(name, path));
    out[name] = container.running() ? container.init_pid() : 0;
  }
  return out;
}

class MeshWatch final : public Watch {
 public:
  explicit MeshWatch(UniqueFd fd, WatchCallback callback)
      : fd_(std::move(fd)), callback_(std::move(callback)) {}
  int fd() const override { return fd_.get(); }
  // Members enrolled or taken out by the containers' hooks rewrite members.json.
  Status dispatch() override {
    alignas(inotify_event) char buffer[4096];
    while (::read(fd_.get(), buffer, sizeof buffer) > 0) callback_({"mesh", "members", "", ""});
    return ok();
  }

 private:
  UniqueFd fd_;
  WatchCallback callback_;
};

class MeshPlugin final : public Plugin {
 public:
  explicit MeshPlugin(MeshSettings settings) : settings_(std::move(settings)) {}

  const PluginDescriptor& descriptor() const override { return mesh_descriptor(); }

  Availability probe() override {
    wireguard::Host host(settings_.host);
    auto family = host.kernel_family();
    if (!family) return {false, family.error().describe()};
    if (!*family && host.userspace_program().empty())
      return {false, "neither kernel WireGuard nor " + settings_.host.userspace_program};
    return {true, *family ? "kernel WireGuard"
                          : "userspace WireGuard (" + host.userspace_program().string() + ")"};
  }

  std::vector<Problem> validate(const Json& section,
                                const std::string& base_pointer) const override {
    std::vector<Problem> problems;
    for (const auto& [name, item] : section.items())
      if (item.value("state", "present") != "absent")
        if (auto config = mesh::parse_config(name, item); !config)
          problems.push_back({pointer_append(base_pointer, name), config.error().message});
    return problems;
  }

  Result<Json> query() override {
    Json out = Json::object();
    std::error_code error;
    for (const auto& entry :
         std::filesystem::directory_iterator(settings_.state_directory / "mesh", error)) {
      auto name = entry.path().filename().string();
      auto config = applied_config(settings_.state_directory, name);
      if (config) out[name] = TRY(mesh_status(name, *config));
    }
    return out;
  }

  Result<std::vector<Change>> diff(const Json& current, const Json& desired) override {
    std::vector<Change> changes;
    for (const auto& [name, item] : desired.items()) {
      bool observe = item.value("mode", "enforce") == "observe";
      auto pointer = pointer_append("", name);
      const Json* have = current.contains(name) ? &current[name] : nullptr;
      if (item.value("state", "present") == "absent") {
        if (have)
          changes.push_back(make_change("mesh", "mesh", name, ChangeOp::remove,
                                        declared_config(*have), Json(), observe, pointer));
        continue;
      }
      TRY(mesh::parse_config(name, item));
      auto declared = declared_config(item);
      if (!have) {
        changes.push_back(make_change("mesh", "mesh", name, ChangeOp::create, Json(), declared,
                                      observe, pointer));
        continue;
      }
      if (!declared_fields_match(*have, declared) || !have->value("in_sync", false)) {
        auto before = project_onto(*have, declared);
        before["in_sync"] = have->value("in_sync", false);
        auto after = declared;
        after["in_sync"] = true;
        changes.push_back(
            make_change("mesh", "mesh", name, ChangeOp::modify, before, after, observe, pointer));
      }
      plan_members(name, *have, observe, pointer, changes);
    }
    return changes;
  }

  Result<ApplyReport> apply(const std::vector<Change>& changes) override {
    ApplyReport report;
    for (const auto& change : changes) {
      auto slash = change.id.find('/');
      auto name = change.id.substr(0, slash);
      if (change.kind == "mesh" && change.op == ChangeOp::remove) {
        report.writes += TRY(remove_mesh(name));
      } else if (change.kind == "mesh") {
        report.writes += TRY(converge(name, declared_config(change.after)));
      } else {
        auto config = TRY(applied_config(settings_.state_directory, name));
        auto state = TRY(mesh::MeshState::open(settings_.state_directory,
                                               TRY(mesh::parse_config(name, config))));
        auto member = change.id.substr(slash + 1);
        if (change.op == ChangeOp::remove)
          TRY(mesh::leave(state, member, false, settings_.host));
        else
          TRY(mesh::enroll(state, member, change.after["init_pid"].get<pid_t>(), settings_.host));
        ++report.writes;
      }
    }
    return report;
  }

  Result<Snapshot> checkpoint_of(const Json& current, const std::vector<Change>& changes) override {
    Json data = Json::object();
    for (const auto& change : changes) {
      auto name = change.id.substr(0, change.id.find('/'));
      data[name] =
          current.contains(name) ? declared_config(current[name]) : Json{{"state", "absent"}};
    }
    return Snapshot{"mesh", data};
  }

  Result<ApplyReport> restore(const Snapshot& snapshot) override {
    auto current = TRY(query());
    return apply(TRY(diff(current, snapshot.data)));
  }

  Result<std::unique_ptr<Watch>> watch(WatchCallback callback) override {
    UniqueFd fd(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!fd) return fail(ErrorCode::internal, "inotify_init1: {}", errno_text(errno));
    auto root = settings_.state_directory / "mesh";
    TRY(ensure_directory(root, 0700));
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(root, error))
      inotify_add_watch(fd.get(), entry.path().c_str(), IN_MOVED_TO | IN_CLOSE_WRITE);
    return std::unique_ptr<Watch>(std::make_unique<MeshWatch>(std::move(fd), std::move(callback)));
  }

  Json exact_desired(const Json& target, const Json& current) const override {
    return exact_named(target, current, declared_config);
  }

 private:
  Result<Json> mesh_status(const std::string& name, const Json& config) {
    auto state = TRY(
        mesh::MeshState::open(settings_.state_directory, TRY(mesh::parse_config(name, config))));
    auto status = TRY(mesh::read_host_interface(state, settings_.host));
    auto out = config;
    out["listen_port"] = status.exists ? Json(status.listen_port) : Json();
    if (!status.public_key.empty()) out["public_key"] = status.public_key;
    if (!status.addresses.empty()) out["address"] = status.addresses.front();
    std::set<std::string> wanted;
    const auto peers = mesh::wanted_host_peers(state);
    for (const auto& [key, peer] : peers) wanted.insert(key);
    auto host_address = mesh::host_address(state.config().prefix).to_string() + "/" +
                        std::to_string(state.config().cidr.length);
    out["in_sync"] = status.exists && status.peers == wanted &&
                     status.addresses == std::vector<std::string>{host_address};
    auto declaring = TRY(declaring_containers(settings_.lxc_path, name));
    Json members = Json::object();
    for (const auto& [member, entry] : state.members())
      members[member] = {{"address", entry.address}, {"enrolled", entry.enrolled}};
    for (const auto& [container, pid] : declaring) {
      members[container]["declared"] = true;
      members[container]["init_pid"] = pid;
      if (!members[container].contains("enrolled")) members[container]["enrolled"] = false;
    }
    out["members"] = members;
    Json hosts = Json::object();
    for (const auto& [key, host] : state.hosts())
      hosts[key] = {
          {"host", host.host}, {"endpoint", host.endpoint}, {"allowed_ips", host.allowed_ips}};
    out["hosts"] = hosts;
    return out;
  }

  // Members to enroll (declared, running, not enrolled) and to take out (enrolled, not running).
  static void plan_members(const std::string& name, const Json& have, bool observe,
                           const std::string& pointer, std::vector<Change>& changes) {
    const auto members = have.value("members", Json::object());
    for (const auto& [member, entry] : members.items()) {
      auto pid = entry.value("init_pid", 0);
      bool enrolled = entry.value("enrolled", false);
      if (entry.value("declared", false) && pid != 0 && !enrolled)
        changes.push_back(make_change("mesh", "member", name + "/" + member, ChangeOp::create,
                                      Json(), {{"init_pid", pid}}, observe, pointer));
      else if (enrolled && pid == 0)
        changes.push_back(make_change("mesh", "member", name + "/" + member, ChangeOp::remove,
                                      {{"address", entry.value("address", "")}}, Json(), observe,
                                      pointer));
    }
  }

  Result<size_t> converge(const std::string& name, const Json& config) {
    auto parsed = TRY(mesh::parse_config(name, config));
    auto state = TRY(mesh::MeshState::open(settings_.state_directory, parsed));
    TRY(write_file_atomic(state.directory() / kConfigFile, config.dump(2) + "\n", 0600));
    auto writes = TRY(mesh::converge_host_interface(state, settings_.host));
    const auto declaring = TRY(declaring_containers(settings_.lxc_path, name));
    for (const auto& [container, pid] : declaring)
      if (pid != 0 &&
          !(state.members().count(container) && state.members().at(container).enrolled)) {
        TRY(mesh::enroll(state, container, pid, settings_.host));
        ++writes;
      }
    return writes;
  }

  Result<size_t> remove_mesh(const std::string& name) {
    auto config = TRY(applied_config(settings_.state_directory, name));
    auto state = TRY(
        mesh::MeshState::open(settings_.state_directory, TRY(mesh::parse_config(name, config))));
    wireguard::Host host(settings_.host);
    auto status = TRY(mesh::read_host_interface(state, settings_.host));
    if (status.exists) TRY(host.remove(state.config().interface));
    TRY(remove_file_durable(state.directory() / kConfigFile));
    return size_t{1};
  }

  MeshSettings settings_;
};

}  // namespace

Result<Json> applied_config(const std::filesystem::path& state_directory, const std::string& mesh) {
  auto file = mesh::MeshState::directory_of(state_directory, mesh) / kConfigFile;
  auto text = read_file(file);
  if (!text)
    return fail(ErrorCode::not_found,
                "mesh {} is not set up on this host (no {}): apply a state "
                "declaring it first",
                mesh, file.string());
  auto json = Json::parse(*text, nullptr, false);
  if (!json.is_object())
    return fail(ErrorCode::invalid_input, "{} is not a JSON object", file.string());
  return json;
}

std::unique_ptr<Plugin> make_mesh_plugin(MeshSettings settings) {
  return std::make_unique<MeshPlugin>(std::move(settings));
}

}  // namespace opdbus::meshplugin
