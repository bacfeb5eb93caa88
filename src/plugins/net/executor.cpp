// Executor for the net plugin; see executor.h.
#include "plugins/net/executor.h"

#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <map>
#include <set>

#include "plugins/net/model.h"

namespace opdbus::net {
namespace {

using netlink::IpAddress;
using netlink::Prefix;
using netlink::Request;

constexpr size_t kFailuresShown = 5;

class Executor {
 public:
  explicit Executor(netlink::Socket& socket) : socket_(socket) {}

  Result<size_t> run(const std::vector<Change>& changes) {
    TRY(refresh_links());
    TRY(remove_routes(select(changes, "route", {ChangeOp::remove})));
    TRY(remove_addresses(select(changes, "address", {ChangeOp::remove})));
    auto link_removals = select(changes, "link", {ChangeOp::remove});
    TRY(remove_links(link_removals));
    auto creations = select(changes, "link", {ChangeOp::create});
    TRY(create_links(creations));
    TRY(update_links(select(changes, "link", {ChangeOp::create, ChangeOp::modify})));
    TRY(add_addresses(select(changes, "address", {ChangeOp::create, ChangeOp::modify})));
    TRY(add_routes(select(changes, "route", {ChangeOp::create, ChangeOp::modify})));
    return writes_;
  }

 private:
  static std::vector<const Change*> select(const std::vector<Change>& changes,
                                           const std::string& kind,
                                           std::initializer_list<ChangeOp> ops) {
    std::vector<const Change*> out;
    for (const auto& change : changes)
      if (change.kind == kind && std::find(ops.begin(), ops.end(), change.op) != ops.end())
        out.push_back(&change);
    return out;
  }

  Status refresh_links() {
    indexes_.clear();
    for (const auto& link : TRY(read_links(socket_))) indexes_[link.name] = link.index;
    return ok();
  }

  Result<int> index_of(const std::string& name) const {
    auto it = indexes_.find(name);
    if (it == indexes_.end())
      return fail(ErrorCode::not_found, "interface '{}' does not exist", name);
    return it->second;
  }

  // Sends the batch; failures whose errno is in `tolerated` count as success.
  Status execute(std::vector<Request>& requests, const char* action, std::set<int> tolerated = {}) {
    if (requests.empty()) return ok();
    auto failures = TRY(socket_.execute(requests));
    std::vector<netlink::RequestFailure> real;
    for (auto& failure : failures)
      if (!tolerated.count(failure.error)) real.push_back(std::move(failure));
    writes_ += requests.size() - real.size();
    if (real.empty()) return ok();
    std::string message = fmt::format("could not {} ({} of {} requests failed)", action,
                                      real.size(), requests.size());
    for (size_t i = 0; i < real.size() && i < kFailuresShown; ++i)
      message += "\n  " + real[i].describe();
    if (real.size() > kFailuresShown)
      message += fmt::format("\n  ... and {} more", real.size() - kFailuresShown);
    return fail(ErrorCode::kernel, message);
  }

  Result<netlink::Route> to_route(const Json& route) const {
    netlink::Route out;
    int family = route_family(route);
    if (route.contains("gateway")) {
      out.gateway = TRY(IpAddress::parse(route["gateway"].get<std::string>()));
      family = out.gateway->family;
    }
    out.destination = TRY(Prefix::parse(route["destination"].get<std::string>(), family));
    out.family = out.destination.address.family;
    if (route.contains("dev")) out.output_index = TRY(index_of(route["dev"].get<std::string>()));
    out.metric = route.value("metric", default_metric(out.family));
    out.table = route.value("table", kMainTable);
    out.type = *route_type_value(route.value("type", "unicast"));
    const bool device_route = out.type == RTN_UNICAST && !out.gateway;
    out.scope = *route_scope_value(route.value("scope", device_route ? "link" : "universe"));
    return out;
  }

  Status remove_routes(const std::vector<const Change*>& changes) {
    std::vector<Request> requests;
    for (const auto* change : changes) {
      auto route = to_route(change->before);
      if (!route) continue;  // its device is gone, and the route with it
      requests.push_back({netlink::build_route_delete(*route), "route " + change->id});
    }
    return execute(requests, "remove routes", {ESRCH, ENOENT});
  }

  Result<netlink::Address> to_address(const Json& address) const {
    netlink::Address out;
    out.ip = TRY(IpAddress::parse(address["ip"].get<std::string>()));
    out.prefix = static_cast<uint8_t>(address["prefix"].get<int>());
    out.index = TRY(index_of(address["interface"].get<std::string>()));
    out.preferred_lifetime = address.value("preferred_lifetime", UINT32_MAX);
    out.valid_lifetime = address.value("valid_lifetime", UINT32_MAX);
    if (address.contains("valid_lifetime") && !address.contains("preferred_lifetime"))
      out.preferred_lifetime = out.valid_lifetime;
    return out;
  }

  Status remove_addresses(const std::vector<const Change*>& changes) {
    std::vector<Request> requests;
    for (const auto* change : changes) {
      auto address = to_address(change->before);
      if (!address) continue;
      requests.push_back({netlink::build_address_delete(*address), "address " + change->id});
    }
    return execute(requests, "remove addresses", {EADDRNOTAVAIL, ENODEV});
  }

  Status remove_links(const std::vector<const Change*>& changes) {
    std::vector<Request> requests;
    for (const auto* change : changes) {
      auto index = index_of(change->id);
      if (index)
        requests.push_back({netlink::build_link_delete(*index), "interface " + change->id});
    }
    TRY(execute(requests, "remove interfaces", {ENODEV}));
    return requests.empty() ? ok() : refresh_links();
  }

  static std::string parent_of(const Json& after) {
    for (const char* kind : {"vlan", "macvlan", "vxlan"})
      if (after.contains(kind) && after[kind].contains("base"))
        return after[kind]["base"].get<std::string>();
    return {};
  }

  Result<netlink::LinkCreate> to_link_create(const Change& change) const {
    const auto& after = change.after;
    netlink::LinkCreate link;
    link.name = change.id;
    link.kind = after["type"].get<std::string>();
    // A bridge created with an MTU would still follow its ports (see to_link_update).
    if (after.contains("mtu") && link.kind != "bridge") link.mtu = after["mtu"].get<uint32_t>();
    if (after.contains("mac_address")) link.mac = after["mac_address"].get<std::string>();
    if (auto parent = parent_of(after); !parent.empty()) link.parent = TRY(index_of(parent));
    if (link.kind == "veth") link.peer_name = after["veth"]["peer"].get<std::string>();
    link.data = TRY(kind_data(after));
    if (link.kind == "vxlan" && !link.data.vxlan_port) link.data.vxlan_port = 4789;
    return link;
  }

  static Result<netlink::LinkKindData> kind_data(const Json& after) {
    netlink::LinkKindData data;
    if (after.contains("bridge") && after["bridge"].contains("stp"))
      data.bridge_stp = after["bridge"]["stp"].get<bool>();
    if (after.contains("vlan")) {
      const auto& vlan = after["vlan"];
      if (vlan.contains("id")) data.vlan_id = vlan["id"].get<uint16_t>();
      if (vlan.contains("protocol")) data.vlan_protocol = vlan["protocol"].get<std::string>();
    }
    if (after.contains("vxlan")) {
      const auto& vxlan = after["vxlan"];
      if (vxlan.contains("id")) data.vxlan_id = vxlan["id"].get<uint32_t>();
      if (vxlan.contains("port")) data.vxlan_port = vxlan["port"].get<uint16_t>();
      if (vxlan.contains("local"))
        data.vxlan_local = TRY(IpAddress::parse(vxlan["local"].get<std::string>()));
      if (vxlan.contains("remote"))
        data.vxlan_remote = TRY(IpAddress::parse(vxlan["remote"].get<std::string>()));
    }
    if (after.contains("macvlan") && after["macvlan"].contains("mode"))
      data.macvlan_mode = macvlan_mode_value(after["macvlan"]["mode"].get<std::string>());
    if (after.contains("bond") && after["bond"].contains("mode"))
      data.bond_mode = bond_mode_value(after["bond"]["mode"].get<std::string>());
    return data;
  }

  // Creates links in waves: a link whose parent is created in this apply waits for it.
  Status create_links(const std::vector<const Change*>& changes) {
    std::vector<const Change*> pending;
    std::set<std::string> peers;
    for (const auto* change : changes) {
      if (peers.count(change->id)) {
        created_with_pair_.insert(change->id);
        continue;
      }
      if (change->after["type"] == "veth")
        peers.insert(change->after["veth"]["peer"].get<std::string>());
      pending.push_back(change);
    }
    while (!pending.empty()) {
      std::set<std::string> waiting;
      for (const auto* change : pending) {
        waiting.insert(change->id);
        if (change->after["type"] == "veth")
          waiting.insert(change->after["veth"]["peer"].get<std::string>());
      }
      std::vector<Request> requests;
      std::vector<const Change*> later;
      for (const auto* change : pending) {
        if (waiting.count(parent_of(change->after))) {
          later.push_back(change);
          continue;
        }
        auto link = TRY(to_link_create(*change));
        requests.push_back({netlink::build_link_create(link), "interface " + change->id});
      }
      if (requests.empty())
        return fail(ErrorCode::invalid_input, "interfaces refer to each other as base in a cycle");
      TRY(execute(requests, "create interfaces"));
      TRY(refresh_links());
      pending = std::move(later);
    }
    return ok();
  }

  Result<netlink::LinkUpdate> to_link_update(const Change& change) const {
    const auto& after = change.after;
    netlink::LinkUpdate update;
    const bool created = change.op == ChangeOp::create;
    if (after.contains("state")) update.up = after["state"] == "up";
    if (after.contains("master"))
      update.master =
          after["master"].is_null() ? 0 : TRY(index_of(after["master"].get<std::string>()));
    // A bridge's MTU follows its ports unless set after creation, so it is always set here.
    const bool mtu_after_create =
        created_with_pair_.count(change.id) || after.value("type", "") == "bridge";
    if (after.contains("mtu") && (!created || mtu_after_create))
      update.mtu = after["mtu"].get<uint32_t>();
    if (!created || created_with_pair_.count(change.id)) {
      if (after.contains("mac_address")) update.mac = after["mac_address"].get<std::string>();
    }
    if (!created && after.contains("bridge")) {
      update.kind = "bridge";
      update.data = TRY(kind_data(after));
    }
    return update;
  }

  Status update_links(const std::vector<const Change*>& changes) {
    std::vector<Request> requests, altname_requests;
    for (const auto* change : changes) {
      int index = TRY(index_of(change->id));
      auto update = TRY(to_link_update(*change));
      if (!update.empty())
        requests.push_back({netlink::build_link_update(index, update), "interface " + change->id});
      add_altname_requests(*change, index, altname_requests);
    }
    TRY(execute(altname_requests, "set alternative names"));
    return execute(requests, "configure interfaces");
  }

  static void add_altname_requests(const Change& change, int index,
                                   std::vector<Request>& requests) {
    if (!change.after.contains("altnames")) return;
    std::set<std::string> wanted, have;
    for (const auto& name : change.after["altnames"]) wanted.insert(name.get<std::string>());
    if (change.before.is_object() && change.before.contains("altnames"))
      for (const auto& name : change.before["altnames"]) have.insert(name.get<std::string>());
    for (const auto& name : have)
      if (!wanted.count(name))
        requests.push_back({netlink::build_link_altname(index, name, false),
                            "altname " + name + " of " + change.id});
    for (const auto& name : wanted)
      if (!have.count(name))
        requests.push_back({netlink::build_link_altname(index, name, true),
                            "altname " + name + " of " + change.id});
  }

  Status add_addresses(const std::vector<const Change*>& changes) {
    std::vector<Request> requests;
    for (const auto* change : changes)
      requests.push_back(
          {netlink::build_address_add(TRY(to_address(change->after))), "address " + change->id});
    return execute(requests, "add addresses");
  }

  Status add_routes(const std::vector<const Change*>& changes) {
    std::vector<Request> requests;
    for (const auto* change : changes)
      requests.push_back(
          {netlink::build_route_replace(TRY(to_route(change->after))), "route " + change->id});
    return execute(requests, "add routes");
  }

  netlink::Socket& socket_;
  std::map<std::string, int> indexes_;
  std::set<std::string> created_with_pair_;
  size_t writes_ = 0;
};

}  // namespace

Result<size_t> execute_changes(netlink::Socket& socket, const std::vector<Change>& changes) {
  return Executor(socket).run(changes);
}

}  // namespace opdbus::net
