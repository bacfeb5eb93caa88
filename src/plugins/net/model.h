// The net plugin's model: the kernel's objects read in one dump per type, and their normalised
// JSON form (the shape of a desired `net` section). Invariants: normalise() output validates
// against the plugin schema and, fed back as desired state, diffs to nothing; addresses and
// altnames are sorted; route destinations have host bits cleared; tables and metrics are
// always explicit so route identity (destination, table, metric) is total.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/json_util.h"
#include "base/result.h"
#include "plugin/plugin.h"
#include "proto/netlink/route.h"
#include "proto/netlink/socket.h"

namespace opdbus::net {

struct KernelState {
  std::vector<netlink::Link> links;
  std::vector<netlink::Address> addresses;
  std::vector<netlink::Route> routes;

  // Builds the lookup indexes; call after filling the vectors.
  void index();
  const netlink::Link* link_by_index(int index) const;
  const std::vector<const netlink::Address*>& addresses_of(int index) const;
  const std::vector<std::string>& ports_of(int index) const;

 private:
  std::unordered_map<int, size_t> by_index_;
  std::unordered_map<int, std::vector<const netlink::Address*>> addresses_by_link_;
  std::unordered_map<int, std::vector<std::string>> ports_by_master_;
};

Result<KernelState> read_kernel_state(netlink::Socket& socket);
Result<std::vector<netlink::Link>> read_links(netlink::Socket& socket);
Json normalise(const KernelState& state);

// Canonical forms of a desired section: the same spelling as normalise() produces.
Result<Json> normalise_desired(const Json& section);

constexpr uint32_t kMainTable = 254;
uint32_t default_metric(int family);
int route_family(const Json& route);
std::string route_key(const Json& route);      // "10.9.0.0/16 table 254 metric 0"
std::string address_key(const Json& address);  // "10.0.0.1/24"

// Interface types op-dbus can create; others can only be configured when they exist.
bool is_creatable_type(const std::string& type);
std::optional<uint32_t> macvlan_mode_value(const std::string& name);
std::string macvlan_mode_name(uint32_t value);
std::optional<uint8_t> bond_mode_value(const std::string& name);
std::string bond_mode_name(uint8_t value);
std::optional<uint8_t> route_scope_value(const std::string& name);
std::optional<uint8_t> route_type_value(const std::string& name);

std::vector<Problem> validate_section(const Json& section, const std::string& base_pointer);

}  // namespace opdbus::net
