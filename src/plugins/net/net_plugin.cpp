// The net plugin: glue between the plugin contract and the netlink model, planner and executor.
// Checkpoints capture every link and route a change can touch, side effects included (a veth's
// peer, a removed bridge's ports, routes through a touched link); restore converges those back.
#include "plugins/net/net_plugin.h"

#include <linux/rtnetlink.h>

#include <chrono>
#include <set>
#include <thread>

#include "base/fs.h"
#include "plugins/net/executor.h"
#include "plugins/net/model.h"
#include "plugins/net/planner.h"

namespace opdbus::net {
namespace {

constexpr int kRestoreAttempts = 5;

class NetWatch final : public Watch {
 public:
  NetWatch(netlink::Socket socket, WatchCallback callback)
      : socket_(std::move(socket)), callback_(std::move(callback)) {}
  int fd() const override { return socket_.fd(); }
  Status dispatch() override {
    return socket_.drain_events([this](const nlmsghdr& nlh) -> Status {
      callback_({"net", event_kind(nlh.nlmsg_type), event_object(nlh), event_origin(nlh)});
      return ok();
    });
  }

 private:
  static std::string event_kind(uint16_t type) {
    if (type == RTM_NEWLINK || type == RTM_DELLINK) return "link";
    if (type == RTM_NEWADDR || type == RTM_DELADDR) return "address";
    return "route";
  }
  // rtnetlink notifications carry the port id of the socket that asked for the change, which is
  // the asking process's pid for its first netlink socket; 0 is the kernel itself.
  static std::string event_origin(const nlmsghdr& nlh) {
    if (nlh.nlmsg_pid == 0) return "kernel";
    auto comm = read_file(fmt::format("/proc/{}/comm", nlh.nlmsg_pid));
    if (!comm) return fmt::format("netlink port {}", nlh.nlmsg_pid);
    auto name = *comm;
    while (!name.empty() && name.back() == '\n') name.pop_back();
    return fmt::format("pid {} ({})", nlh.nlmsg_pid, name);
  }
  static std::string event_object(const nlmsghdr& nlh) {
    if (nlh.nlmsg_type == RTM_NEWLINK || nlh.nlmsg_type == RTM_DELLINK) {
      auto link = netlink::parse_link(nlh);
      if (link) return link->name;
    }
    return {};
  }
  netlink::Socket socket_;
  WatchCallback callback_;
};

class NetPlugin final : public Plugin {
 public:
  const PluginDescriptor& descriptor() const override { return net_descriptor(); }

  Availability probe() override {
    auto socket = netlink::Socket::open();
    if (!socket) return {false, socket.error().describe()};
    auto links = read_links(*socket);
    if (!links) return {false, links.error().describe()};
    return {true, fmt::format("rtnetlink: {} links in this network namespace", links->size())};
  }

  std::vector<Problem> validate(const Json& section,
                                const std::string& base_pointer) const override {
    return validate_section(section, base_pointer);
  }

  Result<Json> query() override {
    auto socket = TRY(netlink::Socket::open());
    return normalise(TRY(read_kernel_state(socket)));
  }

  Result<std::vector<Change>> diff(const Json& current, const Json& desired) override {
    return plan_changes(current, desired);
  }

  Result<ApplyReport> apply(const std::vector<Change>& changes) override {
    auto socket = TRY(netlink::Socket::open());
    return ApplyReport{TRY(execute_changes(socket, changes))};
  }

  Result<Snapshot> checkpoint_of(const Json& current, const std::vector<Change>& changes) override {
    auto touched_links = touched_link_names(current, changes);
    Json interfaces = Json::object();
    for (const auto& name : touched_links) interfaces[name] = {{"name", name}, {"state", "absent"}};
    for (const auto& link : current["interfaces"])
      if (touched_links.count(link["name"].get<std::string>()))
        interfaces[link["name"].get<std::string>()] = link;
    Json routes = Json::object();
    for (const auto& change : changes) {
      if (change.kind != "route") continue;
      const auto& route = change.after.is_object() ? change.after : change.before;
      routes[change.id] = {{"destination", route["destination"]},
                           {"table", route["table"]},
                           {"metric", route["metric"]},
                           {"state", "absent"}};
    }
    for (const auto& route : current["routes"])
      if (routes.contains(route_key(route)) || touched_links.count(route.value("dev", "")))
        routes[route_key(route)] = route;
    return Snapshot{"net", {{"interfaces", interfaces}, {"routes", routes}}};
  }

  Json exact_desired(const Json& target, const Json& current) const override {
    Json desired = target;
    std::set<std::string> links, routes;
    for (const auto& link : target.value("interfaces", Json::array()))
      links.insert(link.value("name", ""));
    for (const auto& route : target.value("routes", Json::array())) routes.insert(route_key(route));
    for (const auto& link : current.value("interfaces", Json::array()))
      if (!links.count(link.value("name", "")))
        desired["interfaces"].push_back({{"name", link["name"]}, {"state", "absent"}});
    for (const auto& route : current.value("routes", Json::array()))
      if (!routes.count(route_key(route)))
        desired["routes"].push_back({{"destination", route["destination"]},
                                     {"table", route["table"]},
                                     {"metric", route["metric"]},
                                     {"state", "absent"}});
    return desired;
  }

  Result<ApplyReport> restore(const Snapshot& snapshot) override {
    auto desired = restore_target(snapshot.data);
    ApplyReport report;
    for (int attempt = 0; attempt < kRestoreAttempts; ++attempt) {
      auto changes = TRY(plan_changes(TRY(query()), desired));
      if (changes.empty()) return report;
      report.writes += TRY(apply(changes)).writes;
      std::this_thread::sleep_for(std::chrono::milliseconds(20 << attempt));
    }
    auto remaining = TRY(plan_changes(TRY(query()), desired));
    if (remaining.empty()) return report;
    return fail(ErrorCode::verify_failed, "restore did not converge: {} {} still differs",
                remaining.size(), remaining.front().kind + " " + remaining.front().id);
  }

  Result<std::unique_ptr<Watch>> watch(WatchCallback callback) override {
    auto socket = TRY(netlink::Socket::open(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
                                            RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE));
    return std::unique_ptr<Watch>(
        std::make_unique<NetWatch>(std::move(socket), std::move(callback)));
  }

 private:
  // Links a change touches, plus those it changes as a side effect: a veth's peer, and the
  // ports, vlans and macvlans of a link that goes away (transitively).
  static std::set<std::string> touched_link_names(const Json& current,
                                                  const std::vector<Change>& changes) {
    std::set<std::string> touched, removed;
    for (const auto& change : changes) {
      if (change.kind == "link") touched.insert(change.id);
      if (change.kind == "link" && change.op == ChangeOp::remove) removed.insert(change.id);
      if (change.kind == "link" && change.after.is_object() && change.after.contains("veth"))
        touched.insert(change.after["veth"]["peer"].get<std::string>());
      if (change.kind == "address")
        touched.insert((change.after.is_object() ? change.after : change.before)["interface"]
                           .get<std::string>());
    }
    for (size_t before = 0; before != touched.size() + removed.size();) {
      before = touched.size() + removed.size();
      for (const auto& link : current["interfaces"]) {
        const auto name = link["name"].get<std::string>();
        const auto peer = link.contains("veth") ? link["veth"].value("peer", "") : "";
        if (touched.count(name) && !peer.empty()) touched.insert(peer);
        if (removed.count(name) && !peer.empty()) removed.insert(peer);
        for (const char* kind : {"vlan", "macvlan"})
          if (link.contains(kind) && removed.count(link[kind].value("base", "")))
            removed.insert(name);
        if (removed.count(link.value("master", ""))) touched.insert(name);
      }
      touched.insert(removed.begin(), removed.end());
    }
    return touched;
  }

  // The desired section that returns every captured object to its captured state.
  static Json restore_target(const Json& data) {
    Json interfaces = Json::array();
    for (const auto& [name, link] : data["interfaces"].items()) {
      Json item = link;
      if (item.value("state", "") != "absent") {
        item.erase("index");
        item.erase("operstate");
        if (item.contains("bridge")) item["bridge"].erase("ports");
        if (!item.contains("master")) item["master"] = nullptr;
        if (!item.contains("altnames")) item["altnames"] = Json::array();
        for (const char* family : {"ipv4", "ipv6"})
          if (!item.contains(family)) item[family] = {{"address", Json::array()}};
      }
      interfaces.push_back(item);
    }
    Json routes = Json::array();
    for (const auto& [key, route] : data["routes"].items()) routes.push_back(route);
    return {{"interfaces", interfaces}, {"routes", routes}};
  }
};

}  // namespace

std::unique_ptr<Plugin> make_net_plugin() {
  return std::make_unique<NetPlugin>();
}

}  // namespace opdbus::net
