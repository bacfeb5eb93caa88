// Planner for the net plugin; see planner.h.
#include "plugins/net/planner.h"

#include <algorithm>
#include <map>
#include <set>

#include "plugins/net/model.h"

namespace opdbus::net {
namespace {

struct DesiredInterface {
  Json item;
  std::string pointer;
};

const std::set<std::string> kNonLinkFields{"name", "mode", "ipv4", "ipv6", "index", "operstate"};

Json link_fields(const Json& interface) {
  Json out = Json::object();
  for (const auto& [key, value] : interface.items())
    if (!kNonLinkFields.count(key)) out[key] = value;
  return out;
}

// The current link with implicit defaults spelled out, so "master": null and "altnames": []
// compare equal to a link that has none.
Json comparable_link(const Json& current) {
  Json out = link_fields(current);
  if (!out.contains("master")) out["master"] = nullptr;
  if (!out.contains("altnames")) out["altnames"] = Json::array();
  return out;
}

class Planner {
 public:
  Planner(const Json& current, const Json& desired) : desired_(desired) {
    for (const auto& link : current["interfaces"]) links_[link["name"].get<std::string>()] = link;
    for (const auto& route : current["routes"]) routes_[route_key(route)] = route;
    for (const auto& item : desired.value("interfaces", Json::array())) {
      const auto name = item["name"].get<std::string>();
      (item.value("state", "") == "absent" ? absent_ : declared_).insert(name);
      if (item.contains("veth")) veth_peer_of_[item["veth"].value("peer", "")] = name;
    }
  }

  Result<std::vector<Change>> run() {
    auto interfaces = TRY(expand_bridge_ports());
    for (const auto& desired : interfaces) TRY(plan_interface(desired));
    const auto routes = desired_.value("routes", Json::array());
    for (size_t i = 0; i < routes.size(); ++i) plan_route(routes[i], fmt::format("/routes/{}", i));
    std::stable_sort(changes_.begin(), changes_.end(), [](const Change& a, const Change& b) {
      return change_phase(a) < change_phase(b);
    });
    return std::move(changes_);
  }

 private:
  Change& add(std::string kind, std::string id, ChangeOp op, Json before, Json after,
              const Json& item, const std::string& pointer) {
    Change change;
    change.plugin = "net";
    change.kind = std::move(kind);
    change.id = std::move(id);
    change.op = op;
    change.before = std::move(before);
    change.after = std::move(after);
    change.observe = item.value("mode", "enforce") == "observe";
    change.pointer = pointer;
    if (change.kind == "address") change.identity_fields = {"interface", "ip", "prefix"};
    if (change.kind == "route") change.identity_fields = {"destination", "table", "metric"};
    changes_.push_back(std::move(change));
    return changes_.back();
  }

  // bridge.ports is shorthand for "master" on each port; ports not listed are released.
  Result<std::vector<DesiredInterface>> expand_bridge_ports() {
    std::vector<DesiredInterface> out;
    std::map<std::string, size_t> by_name;
    const auto interfaces = desired_.value("interfaces", Json::array());
    for (size_t i = 0; i < interfaces.size(); ++i) {
      by_name[interfaces[i]["name"].get<std::string>()] = out.size();
      out.push_back({interfaces[i], fmt::format("/interfaces/{}", i)});
    }
    for (size_t i = 0; i < interfaces.size(); ++i) {
      auto& bridge = out[i];  // only valid until set_master() grows `out`
      if (!bridge.item.contains("bridge") || !bridge.item["bridge"].contains("ports")) continue;
      const auto bridge_name = bridge.item["name"].get<std::string>();
      const auto bridge_pointer = bridge.pointer;
      auto ports = bridge.item["bridge"]["ports"].get<std::vector<std::string>>();
      bridge.item["bridge"].erase("ports");
      if (bridge.item["bridge"].empty()) bridge.item.erase("bridge");
      if (bridge.item.value("state", "") == "absent") continue;
      std::set<std::string> wanted(ports.begin(), ports.end());
      for (const auto& [name, link] : links_)
        if (link.value("master", "") == bridge_name && !wanted.count(name))
          TRY(set_master(out, by_name, name, Json(), bridge_pointer));
      for (const auto& port : ports)
        TRY(set_master(out, by_name, port, bridge_name, bridge_pointer));
    }
    return out;
  }

  Status set_master(std::vector<DesiredInterface>& out, std::map<std::string, size_t>& by_name,
                    const std::string& port, const Json& master, const std::string& pointer) {
    auto it = by_name.find(port);
    if (it == by_name.end()) {
      by_name[port] = out.size();
      out.push_back({{{"name", port}, {"master", master}}, pointer});
      return ok();
    }
    auto& item = out[it->second].item;
    if (item.contains("master") && item["master"] != master)
      return fail(ErrorCode::invalid_input, "{}/bridge/ports: port '{}' declares master {} in {}",
                  pointer, port, json_brief(item["master"]), out[it->second].pointer);
    item["master"] = master;
    return ok();
  }

  Status plan_interface(const DesiredInterface& desired) {
    const auto& item = desired.item;
    const auto name = item["name"].get<std::string>();
    auto current = links_.find(name);
    if (current != links_.end() && current->second.value("type", "") == "openvswitch" &&
        (item.value("state", "") == "absent" || item.contains("master") || item.contains("bridge")))
      return fail(ErrorCode::invalid_input,
                  "{}: '{}' is an Open vSwitch interface: its existence and bridge membership "
                  "belong to the ovs plugin (net may set its addresses, MTU and state)",
                  desired.pointer, name);
    if (item.value("state", "") == "absent") {
      if (current != links_.end())
        add("link", name, ChangeOp::remove, {{"type", current->second["type"]}}, Json(), item,
            desired.pointer);
      return ok();
    }
    if (current == links_.end()) return plan_create(desired, name);
    return plan_modify(desired, name, current->second);
  }

  // The veth declared with `name` as its peer, if any: the peer is created with it.
  std::string declared_veth_peer_of(const std::string& name) const {
    auto it = veth_peer_of_.find(name);
    return it == veth_peer_of_.end() ? std::string() : it->second;
  }

  Status plan_create(const DesiredInterface& declared, const std::string& name) {
    DesiredInterface desired = declared;
    auto& item = desired.item;
    if (!item.contains("type") && !declared_veth_peer_of(name).empty()) {
      item["type"] = "veth";
      item["veth"] = {{"peer", declared_veth_peer_of(name)}};
    }
    const auto type = item.value("type", "");
    if (type.empty())
      return fail(ErrorCode::invalid_input,
                  "{}: interface '{}' does not exist; declare its 'type' to create it",
                  desired.pointer, name);
    if (!is_creatable_type(type))
      return fail(
          ErrorCode::invalid_input,
          "{}/type: interface '{}' does not exist and type '{}' cannot be created (creatable: "
          "bridge, veth, macvlan, vxlan, dummy, vlan, bond, ifb)",
          desired.pointer, name, type);
    if (type == "veth" && !item.contains("veth"))
      return fail(ErrorCode::invalid_input,
                  "{}: veth '{}' needs 'veth': {{\"peer\": NAME}} to be created", desired.pointer,
                  name);
    for (const char* kind : {"vlan", "macvlan"}) {
      if (type == kind && !(item.contains(kind) && item[kind].contains("base")))
        return fail(ErrorCode::invalid_input, "{}: {} '{}' needs its base interface ('{}.base')",
                    desired.pointer, kind, name, kind);
    }
    if (type == "vlan" && !item["vlan"].contains("id"))
      return fail(ErrorCode::invalid_input, "{}/vlan: vlan '{}' needs an 'id'", desired.pointer,
                  name);
    if (type == "vxlan" && !(item.contains("vxlan") && item["vxlan"].contains("id")))
      return fail(ErrorCode::invalid_input, "{}: vxlan '{}' needs 'vxlan': {{\"id\": VNI}}",
                  desired.pointer, name);
    TRY(check_references(desired));
    Json after = link_fields(item);
    if (!after.contains("state")) after["state"] = "up";
    add("link", name, ChangeOp::create, Json(), after, item, desired.pointer);
    plan_addresses(desired, name, Json::object());
    return ok();
  }

  Status plan_modify(const DesiredInterface& desired, const std::string& name,
                     const Json& current) {
    const auto& item = desired.item;
    if (item.contains("type") && item["type"] != current["type"])
      return fail(ErrorCode::invalid_input,
                  "{}/type: interface '{}' exists as a {}, not a {}; declare it \"state\": "
                  "\"absent\" first to "
                  "replace it",
                  desired.pointer, name, current["type"].get<std::string>(),
                  item["type"].get<std::string>());
    if (item.contains("veth") && current.contains("veth") && item["veth"] != current["veth"])
      return fail(ErrorCode::invalid_input,
                  "{}/veth/peer: veth '{}' is paired with '{}'; a peer cannot change",
                  desired.pointer, name, current["veth"].value("peer", "?"));
    TRY(check_references(desired));
    Json wanted = link_fields(item);
    wanted.erase("type");
    wanted.erase("veth");
    Json have = comparable_link(current);
    if (!declared_fields_match(have, wanted))
      add("link", name, ChangeOp::modify, project_onto(have, wanted), wanted, item,
          desired.pointer);
    plan_addresses(desired, name, current);
    return ok();
  }

  Status check_references(const DesiredInterface& desired) {
    const auto& item = desired.item;
    auto check = [&](const std::string& field_pointer, const Json& reference) -> Status {
      if (!reference.is_string() || is_declared(reference)) return ok();
      if (links_.count(reference.get<std::string>()) &&
          !absent_.count(reference.get<std::string>()))
        return ok();
      return fail(ErrorCode::invalid_input,
                  "{}{}: interface '{}' does not exist and is not declared", desired.pointer,
                  field_pointer, reference.get<std::string>());
    };
    if (item.contains("master")) TRY(check("/master", item["master"]));
    for (const char* kind : {"vlan", "macvlan", "vxlan"})
      if (item.contains(kind) && item[kind].contains("base"))
        TRY(check(fmt::format("/{}/base", kind), item[kind]["base"]));
    return ok();
  }

  bool is_declared(const Json& name) const { return declared_.count(name.get<std::string>()) > 0; }

  static bool lifetimes_match(const Json& current, const Json& desired) {
    for (const char* field : {"preferred_lifetime", "valid_lifetime"}) {
      if (!desired.contains(field)) continue;
      if (!current.contains(field) ||
          current[field].get<uint64_t>() > desired[field].get<uint64_t>())
        return false;
    }
    return true;
  }

  void plan_addresses(const DesiredInterface& desired, const std::string& name,
                      const Json& current) {
    for (const char* family : {"ipv4", "ipv6"}) {
      if (!desired.item.contains(family) || !desired.item[family].contains("address")) continue;
      std::map<std::string, Json> have;
      if (current.contains(family))
        for (const auto& address : current[family]["address"]) have[address_key(address)] = address;
      std::set<std::string> wanted;
      for (const auto& address : desired.item[family]["address"]) {
        auto key = address_key(address);
        wanted.insert(key);
        Json after = address;
        after["interface"] = name;
        auto it = have.find(key);
        if (it == have.end())
          add("address", key + " on " + name, ChangeOp::create, Json(), after, desired.item,
              desired.pointer);
        else if (!lifetimes_match(it->second, address))
          add("address", key + " on " + name, ChangeOp::modify, project_onto(it->second, address),
              after, desired.item, desired.pointer);
      }
      for (const auto& [key, address] : have) {
        if (wanted.count(key)) continue;
        Json before = address;
        before["interface"] = name;
        add("address", key + " on " + name, ChangeOp::remove, before, Json(), desired.item,
            desired.pointer);
      }
    }
  }

  void plan_route(const Json& route, const std::string& pointer) {
    auto key = route_key(route);
    auto current = routes_.find(key);
    Json wanted = route;
    wanted.erase("state");
    wanted.erase("mode");
    if (route.value("state", "present") == "absent") {
      if (current != routes_.end())
        add("route", key, ChangeOp::remove, current->second, Json(), route, pointer);
      return;
    }
    if (current == routes_.end()) {
      add("route", key, ChangeOp::create, Json(), wanted, route, pointer);
    } else if (!declared_fields_match(current->second, wanted)) {
      add("route", key, ChangeOp::modify, project_onto(current->second, wanted), wanted, route,
          pointer);
    }
  }

  const Json& desired_;
  std::map<std::string, Json> links_;
  std::map<std::string, Json> routes_;
  std::set<std::string> declared_;                   // desired interfaces not declared absent
  std::set<std::string> absent_;                     // desired interfaces declared absent
  std::map<std::string, std::string> veth_peer_of_;  // peer name -> the veth declaring it
  std::vector<Change> changes_;
};

}  // namespace

int change_phase(const Change& change) {
  const bool removal = change.op == ChangeOp::remove;
  if (change.kind == "route") return removal ? 0 : 6;
  if (change.kind == "address") return removal ? 1 : 5;
  if (removal) return 2;
  return change.op == ChangeOp::create ? 3 : 4;
}

Result<std::vector<Change>> plan_changes(const Json& current, const Json& desired) {
  auto normalised = TRY(normalise_desired(desired));
  return Planner(current, normalised).run();
}

}  // namespace opdbus::net
