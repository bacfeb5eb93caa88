// The ovs plugin: glue between the plugin contract, the pure model and the OVSDB client.
// Every apply is one OVSDB transaction (atomic: a refused operation changes nothing), which also
// bumps next_cfg; the apply then waits, with OVSDB's own "wait" operation, until ovs-vswitchd has
// reconfigured (cur_cfg), so ports it could not open show up in the verify. Checkpoints hold the
// touched bridges with all their ports; restore converges back to them in one transaction.
#include "plugins/ovs/ovs_plugin.h"

#include "plugins/ovs/model.h"
#include "proto/ovsdb/client.h"

namespace opdbus::ovs {
namespace {

constexpr const char* kDatabase = "Open_vSwitch";
constexpr int kReconfigureMs = 10000;

Json select(const char* table, std::initializer_list<const char*> columns) {
  return {{"op", "select"}, {"table", table}, {"where", Json::array()}, {"columns", columns}};
}

Result<Rows> read_rows(ovsdb::Client& client) {
  auto results = TRY(client.transact(
      kDatabase,
      Json::array({select("Bridge", {"_uuid", "name", "datapath_type", "fail_mode", "stp_enable",
                                     "other_config", "external_ids", "ports"}),
                   select("Port", {"_uuid", "name", "interfaces", "tag", "trunks", "vlan_mode",
                                   "external_ids"}),
                   select("Interface", {"_uuid", "name", "type", "options", "error"})})));
  Rows rows;
  auto fill = [](const Json& result, std::map<std::string, Json>& table) {
    for (const auto& row : result.at("rows")) table[ovsdb::uuid_of(row.at("_uuid"))] = row;
  };
  fill(results.at(0), rows.bridges);
  fill(results.at(1), rows.ports);
  fill(results.at(2), rows.interfaces);
  return rows;
}

// Waits until ovs-vswitchd has applied configuration `next` (cur_cfg reaches it).
Status wait_for_vswitchd(ovsdb::Client& client, const Json& next) {
  Json wait = {{"op", "wait"},
               {"timeout", kReconfigureMs},
               {"table", "Open_vSwitch"},
               {"where", Json::array()},
               {"columns", Json::array({"cur_cfg"})},
               {"until", "=="},
               {"rows", Json::array({{{"cur_cfg", next}}})}};
  if (client.transact(kDatabase, Json::array({wait}))) return ok();
  auto now = TRY(client.transact(kDatabase, Json::array({select("Open_vSwitch", {"cur_cfg"})})));
  if (now.at(0).at("rows").at(0).at("cur_cfg").get<int64_t>() >= next.get<int64_t>()) return ok();
  return fail(ErrorCode::verify_failed,
              "ovs-vswitchd did not apply configuration {} within {} s (is it running?)",
              next.get<int64_t>(), kReconfigureMs / 1000);
}

// The bridge whose ports include `port`, in a normalise()d state; empty when none.
std::string bridge_of_port(const Json& state, const std::string& port) {
  for (const auto& bridge : state["bridges"])
    for (const auto& item : bridge["ports"])
      if (item["name"] == port) return bridge["name"].get<std::string>();
  return "";
}

// Applies `changes` to `rows` in one transaction and waits for ovs-vswitchd to follow.
Status apply_changes(ovsdb::Client& client, const Rows& rows, const std::vector<Change>& changes) {
  auto operations = TRY(transaction_for(changes, rows));
  auto results = TRY(client.transact(kDatabase, operations));
  return wait_for_vswitchd(client, results.back().at("rows").at(0).at("next_cfg"));
}

class OvsWatch final : public Watch {
 public:
  OvsWatch(ovsdb::Client client) : client_(std::move(client)) {}
  Status start(WatchCallback callback) {
    // update2: {TABLE: {UUID: {"insert"|"modify"|"delete": ROW}}}.
    client_.on_notification([callback](const std::string& method, const Json& params) {
      if (method != "update2" || params.size() < 2) return;
      for (const auto& [table, rows] : params[1].items())
        for (const auto& [uuid, change] : rows.items())
          for (const auto& [kind, row] : change.items())
            callback(
                {"ovs", table + " " + kind, row.is_object() ? row.value("name", uuid) : uuid, ""});
    });
    Json requests = Json::object();
    for (const char* table : {"Bridge", "Port", "Interface"})
      requests[table] = Json::array({Json::object()});  // every row and column, no condition
    // Short: the daemon's loop waits for this (a frozen server is retried later instead).
    TRY(client_.monitor_cond(kDatabase, "op-dbus-watch", requests, std::chrono::seconds(3)));
    return ok();
  }
  int fd() const override { return client_.fd(); }
  Status dispatch() override { return client_.process(std::chrono::milliseconds(0)); }
  Status keepalive() override { return client_.probe(); }

 private:
  ovsdb::Client client_;
};

class OvsPlugin final : public Plugin {
 public:
  OvsPlugin(std::string address, ovsdb::TlsFiles tls)
      : address_(std::move(address)), tls_(std::move(tls)) {}

  const PluginDescriptor& descriptor() const override { return ovs_descriptor(); }

  Availability probe() override {
    auto client = ovsdb::Client::connect(address_, tls_);
    if (!client) return {false, client.error().describe()};
    auto schema = client->get_schema(kDatabase);
    if (!schema) return {false, schema.error().describe()};
    for (const char* table : {"Bridge", "Port", "Interface"})
      if (!schema->value("tables", Json::object()).contains(table))
        return {false,
                fmt::format("the {} schema at {} has no {} table", kDatabase, address_, table)};
    auto root = client->transact(kDatabase, Json::array({select("Open_vSwitch", {"ovs_version"})}));
    if (!root) return {false, root.error().describe()};
    auto version = ovsdb::set_items(root->at(0).at("rows").at(0).at("ovs_version"));
    return {true, fmt::format("OVSDB at {} (schema {} {}, Open vSwitch {})", address_, kDatabase,
                              schema->value("version", "?"),
                              version.empty() ? "version not reported yet" : version[0].dump())};
  }

  std::vector<Problem> validate(const Json& section,
                                const std::string& base_pointer) const override {
    return validate_bridges(section, base_pointer);
  }

  Result<Json> query() override {
    auto client = TRY(ovsdb::Client::connect(address_, tls_));
    return normalise(TRY(read_rows(client)));
  }

  Result<std::vector<Change>> diff(const Json& current, const Json& desired) override {
    return plan_bridges(current, desired);
  }

  Result<ApplyReport> apply(const std::vector<Change>& changes) override {
    if (changes.empty()) return ApplyReport{};
    auto client = TRY(ovsdb::Client::connect(address_, tls_));
    TRY(apply_changes(client, TRY(read_rows(client)), changes));
    return ApplyReport{1};
  }

  Result<Snapshot> checkpoint_of(const Json& current, const std::vector<Change>& changes) override {
    return Snapshot{"ovs", checkpoint_bridges(current, changes)};
  }

  Result<ApplyReport> restore(const Snapshot& snapshot) override {
    auto current = TRY(query());
    return apply(TRY(plan_bridges(current, snapshot.data)));
  }

  Result<std::unique_ptr<Watch>> watch(WatchCallback callback) override {
    auto watch = std::make_unique<OvsWatch>(TRY(ovsdb::Client::connect(address_, tls_)));
    TRY(watch->start(std::move(callback)));
    return std::unique_ptr<Watch>(std::move(watch));
  }

  Json exact_desired(const Json& target, const Json& current) const override {
    return exact_bridges(target, current);
  }

 private:
  std::string address_;
  ovsdb::TlsFiles tls_;
};

}  // namespace

Status attach_port(const std::string& ovsdb_address, const ovsdb::TlsFiles& tls,
                   const std::string& bridge, const std::string& port,
                   const std::string& owner_plugin) {
  auto client = TRY(ovsdb::Client::connect(ovsdb_address, tls));
  auto rows = TRY(read_rows(client));
  auto holder = bridge_of_port(normalise(rows), port);
  if (holder == bridge) return ok();
  if (!holder.empty())
    return fail(ErrorCode::conflict, "port {} is already a port of OVS bridge {}", port, holder);
  return apply_changes(client, rows,
                       {make_change("ovs", "port", bridge + "/" + port, ChangeOp::create, Json(),
                                    {{"external_ids", {{kOwnerKey, owner_plugin}}}}, false, "")});
}

Status detach_port(const std::string& ovsdb_address, const ovsdb::TlsFiles& tls,
                   const std::string& port) {
  auto client = TRY(ovsdb::Client::connect(ovsdb_address, tls));
  auto rows = TRY(read_rows(client));
  auto owner = bridge_of_port(normalise(rows), port);
  if (owner.empty()) return ok();
  return apply_changes(client, rows,
                       {make_change("ovs", "port", owner + "/" + port, ChangeOp::remove, Json(),
                                    Json(), false, "")});
}

std::unique_ptr<Plugin> make_ovs_plugin(std::string ovsdb_address, ovsdb::TlsFiles tls) {
  return std::make_unique<OvsPlugin>(std::move(ovsdb_address), std::move(tls));
}

}  // namespace opdbus::ovs
