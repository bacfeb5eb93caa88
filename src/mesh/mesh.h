// A WireGuard mesh on this host: its declared configuration and what op-dbus keeps about it
// under STATE/mesh/NAME: the host's key, the members (containers) with the addresses they were
// given and their keys, and the other hosts joined to it.
// Invariants: an address, once given to a member, stays that member's across restarts and is
// never given to another while the member exists (released only when it is removed); the host's
// own address is the first of its prefix and never a member's; the files are replaced atomically
// and read-modify-written under the mesh's lock; no key is ever stored in the member files.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/json_util.h"
#include "proto/netlink/ip_address.h"
#include "proto/wireguard/device.h"

namespace opdbus::mesh {

struct MeshConfig {
  std::string name;
  netlink::Prefix cidr;    // the whole mesh
  netlink::Prefix prefix;  // this host's share of it (default: all of it)
  std::string interface;   // the host's WireGuard interface (default "wg-NAME")
  uint16_t listen_port = 51820;
  std::string endpoint;            // how other hosts reach this one, advertised when joining
  std::string container_endpoint;  // how this host's containers reach it (default: gateway)
  std::string implementation = "auto";
};

// The configuration declared for mesh `name`; an error names the field.
Result<MeshConfig> parse_config(const std::string& name, const Json& item);
// The lowest host address of `prefix` that is not the host's own (the first) and not taken.
Result<netlink::IpAddress> next_free(const netlink::Prefix& prefix,
                                     const std::set<std::string>& taken);
netlink::IpAddress host_address(const netlink::Prefix& prefix);

struct Member {
  std::string address;  // in the mesh
  std::string public_key;
  bool enrolled = false;
};

struct RemoteHost {
  std::string host;
  std::string public_key;
  std::string endpoint;
  std::vector<std::string> allowed_ips;
  std::string verifier;  // the ledger key that signed its description
};

class MeshState {
 public:
  // Opens (creating) STATE/mesh/NAME and takes its lock until destruction.
  static Result<MeshState> open(const std::filesystem::path& state_dir, const MeshConfig& config);
  static std::filesystem::path directory_of(const std::filesystem::path& state_dir,
                                            const std::string& mesh);

  const MeshConfig& config() const { return config_; }
  const std::filesystem::path& directory() const { return directory_; }
  std::filesystem::path host_key_file() const { return directory_ / "host.key"; }
  std::filesystem::path member_key_file(const std::string& member) const;
  // Where a member's userspace WireGuard puts its UAPI socket (and logs), as this host sees it.
  std::filesystem::path member_run_directory(const std::string& member) const;

  const std::map<std::string, Member>& members() const { return members_; }
  const std::map<std::string, RemoteHost>& hosts() const { return hosts_; }
  // The member's address (kept, or the next free one) and key (created 0600 when missing).
  Result<Member> assign(const std::string& member);
  void set_enrolled(const std::string& member, bool enrolled);
  void release(const std::string& member);
  void add_host(RemoteHost host);
  void remove_host(const std::string& public_key);
  Status save() const;

 private:
  MeshState(MeshConfig config, std::filesystem::path directory, FileLock lock)
      : config_(std::move(config)), directory_(std::move(directory)), lock_(std::move(lock)) {}
  Status load();
  static Status write_if_changed(const std::filesystem::path& file, const std::string& text);

  MeshConfig config_;
  std::filesystem::path directory_;
  FileLock lock_;
  std::map<std::string, Member> members_;
  std::map<std::string, RemoteHost> hosts_;
};

}  // namespace opdbus::mesh
