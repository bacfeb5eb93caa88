// The wireguard plugin: glue between the plugin contract, the pure model and the two device
// channels (kernel genetlink, userspace UAPI), plus rtnetlink for the link and its addresses.
// An apply handles one interface at a time: remove, create (a kernel link, or the userspace
// program started in this process's namespaces), one SET for the device and all its peers, then
// addresses. A checkpoint keeps the keys an apply may replace (the private key, preshared keys)
// in 0600 files under the state directory and names those files, so a restore puts them back
// without any key entering the ledger.
#include "plugins/wireguard/wireguard_plugin.h"

#include <linux/rtnetlink.h>
#include <net/if.h>

#include "base/fs.h"
#include "plugins/wireguard/model.h"
#include "proto/netlink/route.h"
#include "proto/netlink/socket.h"
#include "proto/wireguard/host.h"
#include "proto/wireguard/uapi.h"

namespace opdbus::wg {
namespace {

using wireguard::Key;

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
  explicit WireguardPlugin(WireguardSettings settings)
      : settings_(std::move(settings)), host_(host_settings(settings_)) {}

  const PluginDescriptor& descriptor() const override { return wireguard_descriptor(); }

  Availability probe() override {
    auto family = host_.kernel_family();
    if (!family) return {false, family.error().describe()};
    if (*family)
      return {true, fmt::format("kernel WireGuard (generic netlink family {})", **family)};
    auto program = host_.userspace_program();
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
  static wireguard::HostSettings host_settings(WireguardSettings& settings) {
    if (settings.state_directory.empty())
      settings.state_directory = std::filesystem::temp_directory_path() / "op-dbus";
    wireguard::HostSettings host;
    host.uapi_directory = settings.uapi_directory;
    host.userspace_program = settings.userspace_program;
    host.log_directory = settings.state_directory / "wireguard";
    return host;
  }

  Result<std::map<std::string, InterfaceState>> read_interfaces() {
    auto route = TRY(netlink::Socket::open());
    auto table = TRY(wireguard::LinkTable::read(route));
    std::map<std::string, InterfaceState> out;
    for (const auto& [name, implementation] : TRY(host_.interfaces())) {
      auto device = TRY(host_.control(name))->get();
      if (!device && device.error().code == ErrorCode::unavailable) continue;  // a stale socket
      if (!device) return make_failure(device.error());
      out[name] = {implementation, std::move(*device), table.addresses_of(name)};
    }
    return out;
  }

  Status apply_interface(const std::string& name, const std::vector<const Change*>& changes,
                         ApplyReport& report) {
    const Change* created = nullptr;
    const Change* modified = nullptr;
    bool removed = false;
    for (const auto* change : changes) {
      if (change->kind != "interface") continue;
      if (change->op == ChangeOp::remove) {
        TRY(host_.remove(name));
        ++report.writes;
        removed = true;
      }
      if (change->op == ChangeOp::create) created = change;
      if (change->op == ChangeOp::modify) modified = change;
    }
    if (removed && !created) return ok();
    if (created) {
      TRY(host_.create(name, created->after.value("implementation", "auto")));
      ++report.writes;
    }
    const auto& fields = created ? created->after : modified ? modified->after : Json::object();
    auto control = TRY(host_.control(name));
    auto device = TRY(control->get());
    auto change = TRY(device_change(fields));
    for (const auto* peer : changes)
      if (peer->kind == "peer") change.peers.push_back(TRY(peer_change(*peer, device)));
    if (change.private_key || change.listen_port || change.fwmark || !change.peers.empty()) {
      TRY(control->set(change));
      ++report.writes;
    }
    if (created || fields.contains("addresses")) {
      std::vector<std::string> addresses;
      for (const auto& address : fields.value("addresses", Json::array()))
        addresses.push_back(address.get<std::string>());
      report.writes +=
          TRY(host_.configure_link(name, fields.contains("addresses") ? &addresses : nullptr));
    }
    return ok();
  }

  // Keeps the interface's private key and its peers' preshared keys in files named by their
  // fingerprint, and names those files in the checkpointed interface.
  Status escrow_keys(const std::string& name, Json& interface) {
    auto device = TRY(TRY(host_.control(name))->get());
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
  wireguard::Host host_;
};

}  // namespace

std::unique_ptr<Plugin> make_wireguard_plugin(WireguardSettings settings) {
  return std::make_unique<WireguardPlugin>(std::move(settings));
}

}  // namespace opdbus::wg
