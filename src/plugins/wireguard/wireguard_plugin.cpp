// The wireguard plugin: glue between the plugin contract, the pure model and the two device
// channels (kernel genetlink, userspace UAPI), plus rtnetlink for the link and its addresses.
// An apply handles one interface at a time: remove, create (a kernel link, or the userspace
// program started in this process's namespaces), one SET for the device and all its peers, then
// addresses. A checkpoint keeps the keys an apply may replace (the private key, preshared keys)
// in 0600 files under the state directory and names those files, so a restore puts them back
// without any key entering the ledger.
#include "plugins/wireguard/wireguard_plugin.h"

#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "base/fs.h"
#include "plugins/wireguard/model.h"
#include "proto/netlink/route.h"
#include "proto/netlink/socket.h"
#include "proto/wireguard/genl.h"
#include "proto/wireguard/uapi.h"

extern char** environ;

namespace opdbus::wg {
namespace {

using namespace std::chrono_literals;
using wireguard::Key;

// The links and addresses of this network namespace.
struct LinkTable {
  std::vector<netlink::Link> links;
  std::vector<netlink::Address> addresses;

  static Result<LinkTable> read(netlink::Socket& socket) {
    LinkTable table;
    TRY(socket.dump(netlink::build_link_dump(), [&](const nlmsghdr& message) -> Status {
      table.links.push_back(TRY(netlink::parse_link(message)));
      return ok();
    }));
    TRY(socket.dump(netlink::build_address_dump(), [&](const nlmsghdr& message) -> Status {
      table.addresses.push_back(TRY(netlink::parse_address(message)));
      return ok();
    }));
    return table;
  }

  const netlink::Link* find(const std::string& name) const {
    for (const auto& link : links)
      if (link.name == name) return &link;
    return nullptr;
  }

  Result<const netlink::Link*> require(const std::string& name) const {
    if (const auto* link = find(name)) return link;
    return fail(ErrorCode::not_found,
                "WireGuard interface {}: its link is not in this network namespace", name);
  }

  // The link's declarable addresses (the kernel's own IPv6 link-local one is not).
  std::vector<const netlink::Address*> managed_addresses(const std::string& name) const {
    std::vector<const netlink::Address*> out;
    const auto* link = find(name);
    for (const auto& address : addresses)
      if (link && address.index == link->index && !address.ip.is_ipv6_link_local())
        out.push_back(&address);
    return out;
  }

  std::vector<std::string> addresses_of(const std::string& name) const {
    std::vector<std::string> out;
    for (const auto* address : managed_addresses(name)) out.push_back(text_of(*address));
    return out;
  }

  static std::string text_of(const netlink::Address& address) {
    return address.ip.to_string() + "/" + std::to_string(address.prefix);
  }
};

Status execute(netlink::Socket& socket, std::vector<netlink::Request> requests) {
  auto failures = TRY(socket.execute(requests));
  if (!failures.empty()) return fail(ErrorCode::kernel, "{}", failures.front().describe());
  return ok();
}

Result<Key> key_named(const Json& text) {
  return Key::from_base64(text.get<std::string>());
}

// The full peer a create or modify change asks for: the peer as it is, with the declared fields.
Result<wireguard::PeerChange> peer_change(const Change& change, const wireguard::Device& device) {
  wireguard::PeerChange out;
  const auto& fields = change.op == ChangeOp::remove ? change.before : change.after;
  out.peer.public_key = TRY(key_named(fields["public_key"]));
  if (change.op == ChangeOp::remove) {
    out.remove = true;
    return out;
  }
  for (const auto& peer : device.peers)
    if (peer.public_key == out.peer.public_key) out.peer = peer;
  if (fields.contains("endpoint"))
    out.peer.endpoint = TRY(wireguard::Endpoint::parse(fields["endpoint"].get<std::string>()));
  if (fields.contains("allowed_ips")) {
    out.peer.allowed_ips.clear();
    for (const auto& ip : fields["allowed_ips"])
      out.peer.allowed_ips.push_back(TRY(netlink::Prefix::parse(ip.get<std::string>())));
  }
  if (fields.contains("persistent_keepalive"))
    out.peer.persistent_keepalive = fields["persistent_keepalive"].get<uint16_t>();
  if (fields.contains("preshared_key_file")) {
    out.peer.preshared_key.reset();
    out.clear_preshared_key = fields["preshared_key_file"].is_null();
    if (!out.clear_preshared_key)
      out.peer.preshared_key =
          TRY(wireguard::read_key_file(fields["preshared_key_file"].get<std::string>()));
  }
  out.replace_allowed_ips = true;
  return out;
}

// The device-level part of a create or modify change.
Result<wireguard::DeviceChange> device_change(const Json& fields) {
  wireguard::DeviceChange out;
  if (fields.contains("private_key_file"))
    out.private_key =
        TRY(wireguard::load_or_create_private_key(fields["private_key_file"].get<std::string>()));
  if (fields.contains("listen_port")) out.listen_port = fields["listen_port"].get<uint16_t>();
  if (fields.contains("fwmark")) out.fwmark = fields["fwmark"].get<uint32_t>();
  return out;
}

Result<std::optional<Key>> read_key_if_present(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return std::optional<Key>();
  return std::optional<Key>(TRY(wireguard::read_key_file(path)));
}

class WireguardWatch final : public Watch {
 public:
  WireguardWatch(netlink::Socket socket, std::filesystem::path uapi_directory,
                 WatchCallback callback)
      : socket_(std::move(socket)),
        uapi_directory_(std::move(uapi_directory)),
        callback_(std::move(callback)) {}
  int fd() const override { return socket_.fd(); }
  // WireGuard reports no peer changes; links and addresses of its interfaces are watched here and
  // the daemon's periodic sample finds the rest.
  Status dispatch() override {
    return socket_.drain_events([this](const nlmsghdr& message) -> Status {
      if (message.nlmsg_type == RTM_NEWLINK || message.nlmsg_type == RTM_DELLINK) {
        auto link = netlink::parse_link(message);
        if (link && is_wireguard(link->kind, link->name))
          callback_({"wireguard", message.nlmsg_type == RTM_NEWLINK ? "link" : "link removed",
                     link->name, ""});
      } else if (message.nlmsg_type == RTM_NEWADDR || message.nlmsg_type == RTM_DELADDR) {
        auto address = netlink::parse_address(message);
        char name[IF_NAMESIZE] = {};
        if (address && if_indextoname(static_cast<unsigned>(address->index), name) &&
            is_wireguard("", name))
          callback_({"wireguard", "address", name, ""});
      }
      return ok();
    });
  }

 private:
  bool is_wireguard(const std::string& kind, const std::string& name) const {
    std::error_code error;
    return kind == "wireguard" ||
           std::filesystem::exists(uapi_directory_ / (name + ".sock"), error);
  }
  netlink::Socket socket_;
  std::filesystem::path uapi_directory_;
  WatchCallback callback_;
};

class WireguardPlugin final : public Plugin {
 public:
  explicit WireguardPlugin(WireguardSettings settings) : settings_(std::move(settings)) {
    if (settings_.state_directory.empty())
      settings_.state_directory = std::filesystem::temp_directory_path() / "op-dbus";
  }

  const PluginDescriptor& descriptor() const override { return wireguard_descriptor(); }

  Availability probe() override {
    auto family = wireguard::KernelDevice::family();
    if (!family) return {false, family.error().describe()};
    if (*family)
      return {true, fmt::format("kernel WireGuard (generic netlink family {})", **family)};
    auto program = find_program();
    if (program.empty())
      return {false, fmt::format("the kernel has no WireGuard and {} is not installed",
                                 settings_.userspace_program)};
    return {true, fmt::format("userspace WireGuard: {} (UAPI sockets in {})", program.string(),
                              settings_.uapi_directory.string())};
  }

  std::vector<Problem> validate(const Json& section,
                                const std::string& base_pointer) const override {
    return validate_interfaces(section, base_pointer);
  }

  Result<Json> query() override { return normalise(TRY(read_interfaces())); }

  Result<std::vector<Change>> diff(const Json& current, const Json& desired) override {
    return plan_interfaces(current, desired, read_key_if_present);
  }

  Result<ApplyReport> apply(const std::vector<Change>& changes) override {
    std::vector<std::string> order;
    std::map<std::string, std::vector<const Change*>> by_interface;
    for (const auto& change : changes) {
      auto name = interface_of(change);
      if (!by_interface.count(name)) order.push_back(name);
      by_interface[name].push_back(&change);
    }
    ApplyReport report;
    for (const auto& name : order) TRY(apply_interface(name, by_interface[name], report));
    return report;
  }

  Result<Snapshot> checkpoint_of(const Json& current, const std::vector<Change>& changes) override {
    auto data = checkpoint_interfaces(current, changes);
    for (auto& [name, interface] : data["interfaces"].items())
      if (!interface.contains("state")) TRY(escrow_keys(name, interface));
    return Snapshot{"wireguard", data};
  }

  Result<ApplyReport> restore(const Snapshot& snapshot) override {
    auto current = TRY(query());
    return apply(TRY(plan_interfaces(current, snapshot.data, read_key_if_present)));
  }

  Result<std::unique_ptr<Watch>> watch(WatchCallback callback) override {
    auto socket = TRY(netlink::Socket::open(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR));
    return std::unique_ptr<Watch>(std::make_unique<WireguardWatch>(
        std::move(socket), settings_.uapi_directory, std::move(callback)));
  }

  Json exact_desired(const Json& target, const Json& current) const override {
    return exact_interfaces(target, current);
  }

 private:
  std::filesystem::path socket_of(const std::string& name) const {
    return settings_.uapi_directory / (name + ".sock");
  }

  std::filesystem::path find_program() const {
    const std::string program = settings_.userspace_program;
    if (program.find('/') != std::string::npos)
      return ::access(program.c_str(), X_OK) == 0 ? program : "";
    const char* path = std::getenv("PATH");
    std::string_view dirs = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin";
    while (!dirs.empty()) {
      auto dir = dirs.substr(0, dirs.find(':'));
      dirs.remove_prefix(std::min(dirs.size(), dir.size() + 1));
      auto candidate = std::filesystem::path(dir) / program;
      if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return {};
  }

  Result<std::map<std::string, InterfaceState>> read_interfaces() {
    auto route = TRY(netlink::Socket::open());
    auto table = TRY(LinkTable::read(route));
    std::map<std::string, InterfaceState> out;
    if (auto family = TRY(wireguard::KernelDevice::family()))
      for (const auto& link : table.links)
        if (link.kind == "wireguard") {
          auto device = TRY(TRY(wireguard::KernelDevice::open(*family, link.name)).get());
          out[link.name] = {"kernel", std::move(device), table.addresses_of(link.name)};
        }
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(settings_.uapi_directory, error)) {
      auto name = entry.path().stem().string();
      if (entry.path().extension() != ".sock" || out.count(name)) continue;
      auto device = wireguard::UapiClient(entry.path()).get();
      if (!device && device.error().code == ErrorCode::unavailable) continue;  // a stale socket
      if (!device) return make_failure(device.error());
      out[name] = {"userspace", std::move(*device), table.addresses_of(name)};
    }
    return out;
  }

  // The channel to an existing interface: its UAPI socket, else the kernel.
  Result<std::unique_ptr<wireguard::DeviceControl>> control_of(const std::string& name) {
    std::error_code error;
    if (std::filesystem::exists(socket_of(name), error))
      return std::unique_ptr<wireguard::DeviceControl>(
          std::make_unique<wireguard::UapiClient>(socket_of(name)));
    auto family = TRY(wireguard::KernelDevice::family());
    if (!family)
      return fail(ErrorCode::not_found,
                  "WireGuard interface {}: no UAPI socket {} and no kernel "
                  "WireGuard",
                  name, socket_of(name).string());
    return std::unique_ptr<wireguard::DeviceControl>(std::make_unique<wireguard::KernelDevice>(
        TRY(wireguard::KernelDevice::open(*family, name))));
  }

  Status create_interface(const std::string& name, const std::string& implementation) {
    auto family = TRY(wireguard::KernelDevice::family());
    if (implementation == "kernel" && !family)
      return fail(ErrorCode::unavailable,
                  "WireGuard interface {}: the kernel has no WireGuard (module not loaded)", name);
    if (family && implementation != "userspace") {
      auto socket = TRY(netlink::Socket::open());
      netlink::LinkCreate link;
      link.name = name;
      link.kind = "wireguard";
      std::vector<netlink::Request> requests;
      requests.push_back({netlink::build_link_create(link), "WireGuard interface " + name});
      return execute(socket, std::move(requests));
    }
    return start_userspace(name);
  }

  // Starts the userspace implementation, which daemonizes once its tun device and UAPI socket
  // exist; its log goes to STATE/wireguard/NAME.log.
  Status start_userspace(const std::string& name) {
    auto program = find_program();
    if (program.empty())
      return fail(ErrorCode::unavailable,
                  "WireGuard interface {}: the kernel has no WireGuard and {} is not installed",
                  name, settings_.userspace_program);
    auto directory = settings_.state_directory / "wireguard";
    TRY(ensure_directory(directory, 0700));
    auto log = directory / (name + ".log");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::string program_text = program.string();
    std::vector<char*> argv = {program_text.data(), const_cast<char*>(name.c_str()), nullptr};
    pid_t pid = 0;
    int spawned = posix_spawn(&pid, program_text.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0)
      return fail(ErrorCode::io, "cannot start {}: {}", program_text, errno_text(spawned));
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
      return fail(ErrorCode::io, "{} {} failed; see {}", program_text, name, log.string());
    if (wait_for_socket(name, true)) return ok();
    return fail(ErrorCode::io,
                "{} {} started but no UAPI socket appeared at {} (is {} the "
                "directory it uses?)",
                program_text, name, socket_of(name).string(), settings_.uapi_directory.string());
  }

  // Deleting the link removes a kernel interface, and makes a userspace implementation exit.
  Status remove_interface(const std::string& name) {
    auto socket = TRY(netlink::Socket::open());
    auto table = TRY(LinkTable::read(socket));
    const auto* link = TRY(table.require(name));
    std::vector<netlink::Request> requests;
    requests.push_back({netlink::build_link_delete(link->index), "WireGuard interface " + name});
    TRY(execute(socket, std::move(requests)));
    wait_for_socket(name, false);  // a userspace implementation is gone before anything reuses it
    return ok();
  }

  // Whether the interface's UAPI socket is there (or gone), waiting up to 5 s for it.
  bool wait_for_socket(const std::string& name, bool present) const {
    for (auto deadline = std::chrono::steady_clock::now() + 5s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(10ms)) {
      std::error_code error;
      if (std::filesystem::exists(socket_of(name), error) == present) return true;
    }
    return false;
  }

  // Makes the link's addresses exactly `wanted` (when declared) and brings it up.
  Result<size_t> configure_link(const std::string& name, const Json* wanted) {
    auto socket = TRY(netlink::Socket::open());
    auto table = TRY(LinkTable::read(socket));
    const auto* link = TRY(table.require(name));
    std::vector<netlink::Request> requests;
    if (wanted) {
      auto have = table.addresses_of(name);
      for (const auto* address : table.managed_addresses(name))
        if (std::find(wanted->begin(), wanted->end(), LinkTable::text_of(*address)) ==
            wanted->end())
          requests.push_back({netlink::build_address_delete(*address), name});
      for (const auto& text : *wanted) {
        if (std::find(have.begin(), have.end(), text.get<std::string>()) != have.end()) continue;
        auto prefix_text = text.get<std::string>();
        netlink::Address address;
        address.index = link->index;
        address.ip = TRY(netlink::IpAddress::parse(prefix_text.substr(0, prefix_text.find('/'))));
        address.prefix = TRY(netlink::Prefix::parse(prefix_text)).length;
        requests.push_back({netlink::build_address_add(address), name + " " + prefix_text});
      }
    }
    if (!link->up()) {
      netlink::LinkUpdate update;
      update.up = true;
      requests.push_back({netlink::build_link_update(link->index, update), name});
    }
    auto count = requests.size();
    TRY(execute(socket, std::move(requests)));
    return count;
  }

  Status apply_interface(const std::string& name, const std::vector<const Change*>& changes,
                         ApplyReport& report) {
    const Change* created = nullptr;
    const Change* modified = nullptr;
    bool removed = false;
    for (const auto* change : changes) {
      if (change->kind != "interface") continue;
      if (change->op == ChangeOp::remove) {
        TRY(remove_interface(name));
        ++report.writes;
        removed = true;
      }
      if (change->op == ChangeOp::create) created = change;
      if (change->op == ChangeOp::modify) modified = change;
    }
    if (removed && !created) return ok();
    if (created) {
      TRY(create_interface(name, created->after.value("implementation", "auto")));
      ++report.writes;
    }
    const auto& fields = created ? created->after : modified ? modified->after : Json::object();
    auto control = TRY(control_of(name));
    auto device = TRY(control->get());
    auto change = TRY(device_change(fields));
    for (const auto* peer : changes)
      if (peer->kind == "peer") change.peers.push_back(TRY(peer_change(*peer, device)));
    if (change.private_key || change.listen_port || change.fwmark || !change.peers.empty()) {
      TRY(control->set(change));
      ++report.writes;
    }
    if (created || fields.contains("addresses"))
      report.writes +=
          TRY(configure_link(name, fields.contains("addresses") ? &fields["addresses"] : nullptr));
    return ok();
  }

  // Keeps the interface's private key and its peers' preshared keys in files named by their
  // fingerprint, and names those files in the checkpointed interface.
  Status escrow_keys(const std::string& name, Json& interface) {
    auto device = TRY(TRY(control_of(name))->get());
    auto directory = settings_.state_directory / "wireguard" / "keys";
    TRY(ensure_directory(directory, 0700));
    auto keep = [&](const Key& key) -> Result<std::string> {
      auto file = directory / (key.fingerprint() + ".key");
      TRY(wireguard::write_key_file(file, key));
      return file.string();
    };
    if (device.private_key) interface["private_key_file"] = TRY(keep(*device.private_key));
    for (auto& peer : interface["peers"]) {
      peer["preshared_key_file"] = nullptr;
      for (const auto& have : device.peers)
        if (have.public_key.base64() == peer["public_key"] && have.preshared_key)
          peer["preshared_key_file"] = TRY(keep(*have.preshared_key));
    }
    return ok();
  }

  WireguardSettings settings_;
};

}  // namespace

std::unique_ptr<Plugin> make_wireguard_plugin(WireguardSettings settings) {
  return std::make_unique<WireguardPlugin>(std::move(settings));
}

}  // namespace opdbus::wg
