// The WireGuard side of a mesh: the host's own interface (created when missing; its key, port and
// address; forwarding on, so members and hosts reach each other through it; its peers exactly the
// joined hosts and the enrolled members) and each member's interface inside its container's
// network namespace (its own key and mesh address; one peer, this host, over the container's
// default gateway unless the mesh names container_endpoint).
// Invariants: peers are added and removed one by one, never replaced wholesale, so live sessions
// (and the endpoints WireGuard learnt from them) survive; a member's state is saved only after
// both ends are configured.
#pragma once

#include <sys/types.h>

#include "mesh/mesh.h"
#include "proto/wireguard/host.h"

namespace opdbus::mesh {

struct HostInterfaceStatus {
  bool exists = false;
  std::string public_key;
  uint16_t listen_port = 0;
  std::vector<std::string> addresses;
  std::set<std::string> peers;  // public keys
};

Result<HostInterfaceStatus> read_host_interface(const MeshState& state,
                                                const wireguard::HostSettings& host);
// The peers the host's interface must have: joined hosts and enrolled members, by public key.
std::map<std::string, wireguard::Peer> wanted_host_peers(const MeshState& state);
// Brings the host's interface to the mesh's configuration (creating it unless `create` is false,
// when a missing interface is left missing); returns the requests sent.
Result<size_t> converge_host_interface(const MeshState& state, const wireguard::HostSettings& host,
                                       bool create = true);
// Gives `member` (a container whose init is `init_pid`) its address, key and interface, and adds
// it as a peer of the host; saves the state.
Status enroll(MeshState& state, const std::string& member, pid_t init_pid,
              const wireguard::HostSettings& host);
// The host side of enrolling `member`: its address and key, and its peer on the host's interface
// (the interface converged first if it is missing); saves the state.
Status admit(MeshState& state, const std::string& member, const wireguard::HostSettings& host);
// Removes the member's peer from the host and its interface (in its container, or in what is
// left of its namespace once the container stopped); its address stays reserved unless
// `release`. Saves the state.
Status leave(MeshState& state, const std::string& member, bool release,
             const wireguard::HostSettings& host);

}  // namespace opdbus::mesh
