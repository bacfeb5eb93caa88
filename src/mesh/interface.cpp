// The WireGuard side of a mesh; see interface.h.
#include "mesh/interface.h"

#include <sys/socket.h>

#include <fstream>

#include "proto/netlink/route.h"
#include "proto/wireguard/key.h"

namespace opdbus::mesh {
namespace {

constexpr uint16_t kKeepaliveSeconds = 25;

std::string address_with(const netlink::IpAddress& address, const netlink::Prefix& cidr) {
  return address.to_string() + "/" + std::to_string(cidr.length);
}

// The default IPv4 gateway in the network namespace of `pid`.
Result<std::string> default_gateway(pid_t pid) {
  auto socket = TRY(wireguard::open_socket_in(pid));
  std::string gateway;
  TRY(socket.dump(netlink::build_route_dump(AF_INET), [&](const nlmsghdr& message) -> Status {
    auto route = netlink::parse_route(message);
    if (route && route->destination.length == 0 && route->gateway && gateway.empty())
      gateway = route->gateway->to_string();
    return ok();
  }));
  if (gateway.empty())
    return fail(ErrorCode::not_found,
                "the container has no default gateway to reach the host's mesh interface; set "
                "container_endpoint in the mesh");
  return gateway;
}

Status enable_forwarding(const std::string& interface) {
  auto path = "/proc/sys/net/ipv4/conf/" + interface + "/forwarding";
  std::ofstream out(path);
  if (!(out << "1\n") || !out.flush())
    return fail(ErrorCode::io, "cannot enable forwarding on {} ({})", interface, path);
  return ok();
}

wireguard::Host host_side(const MeshState& state, const wireguard::HostSettings& base) {
  auto settings = base;
  settings.namespace_of = 0;
  if (settings.log_directory.empty()) settings.log_directory = state.directory();
  return wireguard::Host(settings);
}

wireguard::Host member_side(const MeshState& state, const std::string& member, pid_t init_pid,
                            const wireguard::HostSettings& base) {
  auto settings = base;
  settings.uapi_directory = state.member_run_directory(member);
  settings.log_directory = state.member_run_directory(member);
  settings.namespace_of = init_pid;
  return wireguard::Host(settings);
}

bool exists(const wireguard::Host& host, const std::string& name) {
  auto interfaces = host.interfaces();
  if (!interfaces) return false;
  for (const auto& [interface, implementation] : *interfaces)
    if (interface == name) return true;
  return false;
}

// Adds the wanted peers the device lacks (or has differently) and removes the others.
wireguard::DeviceChange peer_changes(const wireguard::Device& device,
                                     const std::map<std::string, wireguard::Peer>& wanted) {
  wireguard::DeviceChange change;
  std::set<std::string> present;
  for (const auto& peer : device.peers) {
    auto key = peer.public_key.base64();
    present.insert(key);
    auto want = wanted.find(key);
    if (want == wanted.end()) {
      wireguard::PeerChange gone;
      gone.peer.public_key = peer.public_key;
      gone.remove = true;
      change.peers.push_back(gone);
      continue;
    }
    auto sorted = [](std::vector<netlink::Prefix> ips) {
      std::sort(ips.begin(), ips.end(),
                [](const auto& a, const auto& b) { return a.to_string() < b.to_string(); });
      return ips;
    };
    bool same = sorted(peer.allowed_ips) == sorted(want->second.allowed_ips) &&
                peer.persistent_keepalive == want->second.persistent_keepalive &&
                (!want->second.endpoint || peer.endpoint == want->second.endpoint);
    if (!same) {
      wireguard::PeerChange update;
      update.peer = want->second;
      if (!update.peer.endpoint) update.peer.endpoint = peer.endpoint;  // keep the learnt one
      update.replace_allowed_ips = true;
      change.peers.push_back(update);
    }
  }
  for (const auto& [key, peer] : wanted)
    if (!present.count(key)) {
      wireguard::PeerChange added;
      added.peer = peer;
      added.replace_allowed_ips = true;
      change.peers.push_back(added);
    }
  return change;
}

// A member as a peer of the host: its key, and its address as the one IP it may send from.
Result<wireguard::Peer> member_peer(const Member& member) {
  wireguard::Peer peer;
  peer.public_key = TRY(wireguard::Key::from_base64(member.public_key));
  peer.allowed_ips = {TRY(netlink::Prefix::parse(member.address + "/32"))};
  return peer;
}

// admit() for a member already assigned: its peer on the host, the state saved.
Status add_to_host(MeshState& state, const std::string& member, const Member& assigned,
                   const wireguard::HostSettings& host) {
  state.set_enrolled(member, true);
  auto side = host_side(state, host);
  if (!exists(side, state.config().interface)) {
    TRY(converge_host_interface(state, host));
    return state.save();
  }
  // The interface is there: only this member's peer is added (no need to read every peer).
  wireguard::DeviceChange change;
  wireguard::PeerChange peer;
  peer.peer = TRY(member_peer(assigned));
  peer.replace_allowed_ips = true;
  change.peers.push_back(peer);
  TRY(TRY(side.control(state.config().interface))->set(change));
  return state.save();
}

}  // namespace

Result<HostInterfaceStatus> read_host_interface(const MeshState& state,
                                                const wireguard::HostSettings& host) {
  HostInterfaceStatus status;
  auto side = host_side(state, host);
  const auto& name = state.config().interface;
  if (!exists(side, name)) return status;
  auto device = TRY(TRY(side.control(name))->get());
  status.exists = true;
  if (device.private_key) status.public_key = TRY(device.private_key->public_key()).base64();
  status.listen_port = device.listen_port;
  for (const auto& peer : device.peers) status.peers.insert(peer.public_key.base64());
  auto socket = TRY(netlink::Socket::open());
  status.addresses = TRY(wireguard::LinkTable::read(socket)).addresses_of(name);
  return status;
}

std::map<std::string, wireguard::Peer> wanted_host_peers(const MeshState& state) {
  std::map<std::string, wireguard::Peer> out;
  for (const auto& [key, remote] : state.hosts()) {
    auto public_key = wireguard::Key::from_base64(key);
    if (!public_key) continue;
    wireguard::Peer peer;
    peer.public_key = *public_key;
    if (auto endpoint = wireguard::Endpoint::parse(remote.endpoint)) peer.endpoint = *endpoint;
    for (const auto& ip : remote.allowed_ips)
      if (auto prefix = netlink::Prefix::parse(ip)) peer.allowed_ips.push_back(*prefix);
    peer.persistent_keepalive = kKeepaliveSeconds;
    out[key] = peer;
  }
  for (const auto& [name, member] : state.members())
    if (auto peer = member_peer(member); member.enrolled && peer) out[member.public_key] = *peer;
  return out;
}

Result<size_t> converge_host_interface(const MeshState& state, const wireguard::HostSettings& host,
                                       bool create) {
  const auto& config = state.config();
  auto side = host_side(state, host);
  size_t writes = 0;
  if (!exists(side, config.interface)) {
    if (!create) return writes;
    TRY(side.create(config.interface, config.implementation));
    ++writes;
  }
  auto control = TRY(side.control(config.interface));
  auto device = TRY(control->get());
  auto key = TRY(wireguard::load_or_create_private_key(state.host_key_file()));
  auto change = peer_changes(device, wanted_host_peers(state));
  if (device.private_key != key) change.private_key = key;
  if (device.listen_port != config.listen_port) change.listen_port = config.listen_port;
  if (change.private_key || change.listen_port || !change.peers.empty()) {
    TRY(control->set(change));
    ++writes;
  }
  std::vector<std::string> addresses = {address_with(host_address(config.prefix), config.cidr)};
  writes += TRY(side.configure_link(config.interface, &addresses));
  TRY(enable_forwarding(config.interface));
  return writes;
}

Status enroll(MeshState& state, const std::string& member, pid_t init_pid,
              const wireguard::HostSettings& host) {
  const auto& config = state.config();
  auto assigned = TRY(state.assign(member));
  auto host_key = TRY(wireguard::load_or_create_private_key(state.host_key_file()));
  auto endpoint_text = config.container_endpoint;
  if (endpoint_text.empty())
    endpoint_text = TRY(default_gateway(init_pid)) + ":" + std::to_string(config.listen_port);

  auto side = member_side(state, member, init_pid, host);
  TRY(ensure_directory(state.member_run_directory(member), 0700));
  if (!exists(side, config.interface)) TRY(side.create(config.interface, config.implementation));
  wireguard::DeviceChange change;
  change.private_key = TRY(wireguard::read_key_file(state.member_key_file(member)));
  change.replace_peers = true;
  wireguard::PeerChange to_host;
  to_host.peer.public_key = TRY(host_key.public_key());
  to_host.peer.endpoint = TRY(wireguard::Endpoint::parse(endpoint_text));
  to_host.peer.allowed_ips = {config.cidr};
  to_host.peer.persistent_keepalive = kKeepaliveSeconds;
  to_host.replace_allowed_ips = true;
  change.peers.push_back(to_host);
  TRY(TRY(side.control(config.interface))->set(change));
  auto address = TRY(netlink::IpAddress::parse(assigned.address));
  std::vector<std::string> addresses = {address_with(address, config.cidr)};
  TRY(side.configure_link(config.interface, &addresses));

  return add_to_host(state, member, assigned, host);
}

Status admit(MeshState& state, const std::string& member, const wireguard::HostSettings& host) {
  auto assigned = TRY(state.assign(member));
  return add_to_host(state, member, assigned, host);
}

Status leave(MeshState& state, const std::string& member, bool release,
             const wireguard::HostSettings& host) {
  // After the container stopped, a userspace interface lives on in its namespace until removed;
  // remove() reaches that namespace through the handle pinned when the interface was started.
  auto side = member_side(state, member, 0, host);
  if (exists(side, state.config().interface))
    if (auto removed = side.remove(state.config().interface);
        !removed && removed.error().code != ErrorCode::not_found)
      return removed;
  if (release)
    state.release(member);
  else
    state.set_enrolled(member, false);
  TRY(converge_host_interface(state, host, false));  // a mesh taken down stays down
  return state.save();
}

}  // namespace opdbus::mesh
