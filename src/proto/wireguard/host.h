// WireGuard interfaces on a host, whichever implementation carries them: the kernel's (an
// rtnetlink link of kind "wireguard", configured over genetlink) or a userspace program
// (wireguard-go: one process per interface, configured over its UAPI socket). Creates, finds,
// configures (addresses, up) and removes them, in this network namespace or in another process's
// (a container's), where a userspace implementation gets a socket directory of its own.
// Invariants: nothing here runs `wg` or `ip`; the only process started is the userspace WireGuard
// implementation itself (no protocol creates a userspace interface); it is only ever started, never
// signalled (deleting its link makes it exit); sockets for another namespace are opened there and
// the calling thread returns to its own namespace before anything else happens.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "proto/netlink/route.h"
#include "proto/netlink/socket.h"
#include "proto/wireguard/device.h"

namespace opdbus::wireguard {

struct HostSettings {
  // Where UAPI sockets appear, as this process sees them.
  std::filesystem::path uapi_directory = "/var/run/wireguard";
  std::string userspace_program = "wireguard-go";  // looked up in PATH
  std::filesystem::path log_directory;             // a started program's log: DIR/NAME.log
  // The network namespace of this process (0: our own). A userspace program started for it gets
  // `uapi_directory` mounted over its /var/run/wireguard, privately.
  pid_t namespace_of = 0;
};

// The links and addresses of one network namespace.
struct LinkTable {
  std::vector<netlink::Link> links;
  std::vector<netlink::Address> addresses;

  static Result<LinkTable> read(netlink::Socket& socket);
  const netlink::Link* find(const std::string& name) const;
  Result<const netlink::Link*> require(const std::string& name) const;
  // The link's declarable addresses (the kernel's own IPv6 link-local one is not), "ADDR/LEN".
  std::vector<std::string> addresses_of(const std::string& name) const;
};

// A netlink socket (NETLINK_ROUTE or `protocol`) in the network namespace of `pid` (0: ours).
Result<netlink::Socket> open_socket_in(pid_t pid, int protocol = NETLINK_ROUTE);

class Host {
 public:
  explicit Host(HostSettings settings);
  const HostSettings& settings() const { return settings_; }
  std::filesystem::path socket_of(const std::string& name) const;
  // The userspace program's path, or empty when it is not installed.
  std::filesystem::path userspace_program() const;
  // The kernel's genetlink family id for WireGuard, or nullopt without the module.
  Result<std::optional<uint16_t>> kernel_family() const;

  // The interfaces there are: kernel links of kind wireguard and UAPI sockets something serves
  // (a stale one is skipped), with their implementation ("kernel" or "userspace").
  Result<std::vector<std::pair<std::string, std::string>>> interfaces() const;
  // The channel to an existing interface: its UAPI socket, else the kernel.
  Result<std::unique_ptr<DeviceControl>> control(const std::string& name) const;
  // `implementation`: "auto" (the kernel's when it has WireGuard), "kernel" or "userspace".
  Status create(const std::string& name, const std::string& implementation) const;
  // Deletes the link (a userspace program exits with it): one started in another namespace there,
  // through the handle pinned when it started, even once that namespace has no other process.
  Status remove(const std::string& name) const;
  // Makes the link's addresses exactly `addresses` (when given) and brings it up; returns the
  // number of requests sent.
  Result<size_t> configure_link(const std::string& name,
                                const std::vector<std::string>* addresses) const;

 private:
  Status start_userspace(const std::string& name) const;
  bool wait_for_socket(const std::string& name, bool present) const;
  std::string where() const;  // which network namespace, for errors
  std::filesystem::path pin_of(const std::string& name) const;
  Status pin_namespace(const std::string& name) const;
  HostSettings settings_;
};

}  // namespace opdbus::wireguard
