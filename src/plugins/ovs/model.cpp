// The ovs plugin's pure logic; see model.h.
#include "plugins/ovs/model.h"

#include <algorithm>
#include <set>

#include "proto/ovsdb/client.h"

namespace opdbus::ovs {
namespace {

using ovsdb::map_object;
using ovsdb::ovsdb_map;
using ovsdb::ovsdb_set;
using ovsdb::uuid_of;

const std::set<std::string> kBridgeFields{"datapath_type", "fail_mode", "stp_enable",
                                          "other_config", "external_ids"};
const std::set<std::string> kPortFields{"tag", "trunks", "vlan_mode", "external_ids"};
const std::set<std::string> kInterfaceFields{"type", "options"};

Json items(const Json& value) {
  return value.is_null() ? Json::array() : ovsdb::set_items(value);
}

Json optional_atom(const Json& value) {
  auto atoms = items(value);
  return atoms.empty() ? Json() : atoms[0];
}

const Json& row_or_empty(const std::map<std::string, Json>& table, const std::string& uuid) {
  static const Json empty = Json::object();
  auto it = table.find(uuid);
  return it == table.end() ? empty : it->second;
}

Json port_json(const Json& port, const Rows& rows) {
  static const Json no_interface = Json::object();
  auto interfaces = items(port.value("interfaces", Json()));
  const auto& interface =
      interfaces.empty() ? no_interface : row_or_empty(rows.interfaces, uuid_of(interfaces[0]));
  auto type = interface.value("type", "");
  auto trunks = items(port.value("trunks", Json()));
  std::sort(trunks.begin(), trunks.end());
  Json out = {{"name", port["name"]},
              {"type", type.empty() ? "system" : type},
              {"tag", optional_atom(port.value("tag", Json()))},
              {"trunks", trunks},
              {"vlan_mode", optional_atom(port.value("vlan_mode", Json()))},
              {"options", map_object(interface.value("options", Json()))},
              {"external_ids", map_object(port.value("external_ids", Json()))}};
  auto error = optional_atom(interface.value("error", Json()));
  if (error.is_string()) out["error"] = error;
  return out;
}

Json bridge_json(const Json& bridge, const Rows& rows) {
  auto name = bridge["name"].get<std::string>();
  Json ports = Json::array();
  for (const auto& reference : items(bridge.value("ports", Json()))) {
    const auto& port = row_or_empty(rows.ports, uuid_of(reference));
    if (!port.empty() && port["name"] != name) ports.push_back(port_json(port, rows));
  }
  std::sort(ports.begin(), ports.end(),
            [](const Json& a, const Json& b) { return a["name"] < b["name"]; });
  auto datapath = bridge.value("datapath_type", "");
  auto stp = bridge.value("stp_enable", Json(false));
  return {{"name", name},
          {"datapath_type", datapath.empty() ? "system" : datapath},
          {"fail_mode", optional_atom(bridge.value("fail_mode", Json()))},
          {"stp_enable", stp.is_boolean() ? stp : Json(false)},
          {"other_config", map_object(bridge.value("other_config", Json()))},
          {"external_ids", map_object(bridge.value("external_ids", Json()))},
          {"ports", ports}};
}

Json pick(const Json& item, const std::set<std::string>& fields) {
  Json out = Json::object();
  for (const auto& [key, value] : item.items())
    if (fields.count(key)) out[key] = value;
  return out;
}

Json declared_port(const Json& port) {
  auto out = pick(port, kPortFields);
  out.update(pick(port, kInterfaceFields));
  if (out.contains("trunks")) std::sort(out["trunks"].begin(), out["trunks"].end());
  return out;
}

const Json* find_named(const Json& list, const std::string& name) {
  for (const auto& item : list)
    if (item.value("name", "") == name) return &item;
  return nullptr;
}

// A port another plugin added for its own resource (a container's veth) and removes with it.
bool owned_elsewhere(const Json& port) {
  return port.contains("external_ids") && port["external_ids"].contains(kOwnerKey);
}

void plan_ports(const Json& current_bridge, const Json& item, const std::string& pointer,
                bool observe, std::vector<Change>& changes) {
  const auto name = item["name"].get<std::string>();
  const auto& existing = current_bridge["ports"];
  const auto& wanted = item["ports"];
  for (size_t j = 0; j < wanted.size(); ++j) {
    auto port_name = wanted[j]["name"].get<std::string>();
    auto port_pointer = pointer_append(pointer + "/ports", j);
    auto after = declared_port(wanted[j]);
    const auto* have = find_named(existing, port_name);
    if (!have) {
      after["name"] = port_name;
      changes.push_back(make_change("ovs", "port", name + "/" + port_name, ChangeOp::create, Json(),
                                    after, observe, port_pointer));
    } else if (!declared_fields_match(*have, after) || have->contains("error")) {
      auto before = project_onto(*have, after);
      if (have->contains("error")) before["error"] = (*have)["error"];
      changes.push_back(make_change("ovs", "port", name + "/" + port_name, ChangeOp::modify, before,
                                    after, observe, port_pointer));
    }
  }
  for (const auto& have : existing)
    if (!find_named(wanted, have["name"].get<std::string>()) && !owned_elsewhere(have))
      changes.push_back(make_change("ovs", "port", name + "/" + have["name"].get<std::string>(),
                                    ChangeOp::remove, have, Json(), observe, pointer + "/ports"));
}

// Transaction building: named rows and the operations that insert, update and mutate them.
class Transaction {
 public:
  explicit Transaction(const Rows& rows) : rows_(rows) {}

  Json insert_port(const Json& port) {
    auto interface = named("i");
    Json interface_row = {{"name", port["name"]}};
    interface_row.update(interface_columns(port));
    ops_.push_back({{"op", "insert"},
                    {"table", "Interface"},
                    {"uuid-name", interface},
                    {"row", interface_row}});
    auto name = named("p");
    Json port_row = port_columns(port);
    port_row["name"] = port["name"];
    port_row["interfaces"] = Json::array({"named-uuid", interface});
    ops_.push_back({{"op", "insert"}, {"table", "Port"}, {"uuid-name", name}, {"row", port_row}});
    return Json::array({"named-uuid", name});
  }

  void create_bridge(const Json& bridge) {
    Json references = Json::array({insert_port({{"name", bridge["name"]}, {"type", "internal"}})});
    for (const auto& port : bridge.value("ports", Json::array()))
      references.push_back(insert_port(port));
    auto name = named("b");
    Json row = bridge_columns(bridge);
    row["name"] = bridge["name"];
    row["ports"] = ovsdb_set(references);
    ops_.push_back({{"op", "insert"}, {"table", "Bridge"}, {"uuid-name", name}, {"row", row}});
    mutate_root("bridges", "insert", Json::array({"named-uuid", name}));
  }

  Status remove_bridge(const std::string& name) {
    mutate_root("bridges", "delete", Json::array({"uuid", TRY(bridge_uuid(name))}));
    return ok();
  }

  void update_bridge(const std::string& name, const Json& fields) {
    ops_.push_back({{"op", "update"},
                    {"table", "Bridge"},
                    {"where", by_name(name)},
                    {"row", bridge_columns(fields)}});
  }

  void add_port(const std::string& bridge, const Json& port) {
    auto reference = insert_port(port);
    mutate_bridge_ports(bridge, "insert", reference);
  }

  Status remove_port(const std::string& bridge, const std::string& port) {
    mutate_bridge_ports(bridge, "delete", Json::array({"uuid", TRY(port_uuid(bridge, port))}));
    return ok();
  }

  Status update_port(const std::string& bridge, const std::string& port, const Json& fields) {
    auto uuid = TRY(port_uuid(bridge, port));
    auto columns = port_columns(fields);
    if (!columns.empty())
      ops_.push_back(
          {{"op", "update"}, {"table", "Port"}, {"where", by_uuid(uuid)}, {"row", columns}});
    auto interface_columns_ = interface_columns(fields);
    if (!interface_columns_.empty()) {
      auto interfaces = items(rows_.ports.at(uuid).value("interfaces", Json()));
      for (const auto& interface : interfaces)
        ops_.push_back({{"op", "update"},
                        {"table", "Interface"},
                        {"where", by_uuid(uuid_of(interface))},
                        {"row", interface_columns_}});
    }
    return ok();
  }

  // Asks ovs-vswitchd to reconfigure (next_cfg + 1) and reads the number it must reach.
  Json finish() {
    ops_.push_back({{"op", "mutate"},
                    {"table", "Open_vSwitch"},
                    {"where", Json::array()},
                    {"mutations", Json::array({Json::array({"next_cfg", "+=", 1})})}});
    ops_.push_back({{"op", "select"},
                    {"table", "Open_vSwitch"},
                    {"where", Json::array()},
                    {"columns", Json::array({"next_cfg"})}});
    return ops_;
  }

 private:
  std::string named(const char* prefix) { return fmt::format("{}{}", prefix, counter_++); }
  static Json by_name(const std::string& name) {
    return Json::array({Json::array({"name", "==", name})});
  }
  static Json by_uuid(const std::string& uuid) {
    return Json::array({Json::array({"_uuid", "==", Json::array({"uuid", uuid})})});
  }
  void mutate_root(const char* column, const char* mutator, const Json& reference) {
    ops_.push_back(
        {{"op", "mutate"},
         {"table", "Open_vSwitch"},
         {"where", Json::array()},
         {"mutations",
          Json::array({Json::array({column, mutator, ovsdb_set(Json::array({reference}))})})}});
  }
  void mutate_bridge_ports(const std::string& bridge, const char* mutator, const Json& reference) {
    ops_.push_back(
        {{"op", "mutate"},
         {"table", "Bridge"},
         {"where", by_name(bridge)},
         {"mutations",
          Json::array({Json::array({"ports", mutator, ovsdb_set(Json::array({reference}))})})}});
  }
  Result<std::string> bridge_uuid(const std::string& name) const {
    for (const auto& [uuid, row] : rows_.bridges)
      if (row.value("name", "") == name) return uuid;
    return fail(ErrorCode::not_found, "OVS bridge {} does not exist", name);
  }
  Result<std::string> port_uuid(const std::string& bridge, const std::string& port) const {
    const auto& row = rows_.bridges.at(TRY(bridge_uuid(bridge)));
    for (const auto& reference : items(row.value("ports", Json()))) {
      auto uuid = uuid_of(reference);
      if (rows_.ports.count(uuid) && rows_.ports.at(uuid).value("name", "") == port) return uuid;
    }
    return fail(ErrorCode::not_found, "OVS bridge {} has no port {}", bridge, port);
  }
  static Json optional_column(const Json& value) {
    return value.is_null() ? ovsdb_set(Json::array()) : value;
  }
  static Json bridge_columns(const Json& fields) {
    Json row = Json::object();
    if (fields.contains("datapath_type")) row["datapath_type"] = fields["datapath_type"];
    if (fields.contains("fail_mode")) row["fail_mode"] = optional_column(fields["fail_mode"]);
    if (fields.contains("stp_enable")) row["stp_enable"] = fields["stp_enable"];
    for (const char* map : {"other_config", "external_ids"})
      if (fields.contains(map)) row[map] = ovsdb_map(fields[map]);
    return row;
  }
  static Json port_columns(const Json& fields) {
    Json row = Json::object();
    if (fields.contains("tag")) row["tag"] = optional_column(fields["tag"]);
    if (fields.contains("trunks")) row["trunks"] = ovsdb_set(fields["trunks"]);
    if (fields.contains("vlan_mode")) row["vlan_mode"] = optional_column(fields["vlan_mode"]);
    if (fields.contains("external_ids")) row["external_ids"] = ovsdb_map(fields["external_ids"]);
    return row;
  }
  static Json interface_columns(const Json& fields) {
    Json row = Json::object();
    if (fields.contains("type"))
      row["type"] = fields["type"] == "system" ? Json("") : fields["type"];
    if (fields.contains("options")) row["options"] = ovsdb_map(fields["options"]);
    return row;
  }

  const Rows& rows_;
  Json ops_ = Json::array();
  int counter_ = 0;
};

Status add_change(Transaction& transaction, const Change& change) {
  auto slash = change.id.find('/');
  auto bridge = change.id.substr(0, slash);
  if (change.kind == "bridge") {
    if (change.op == ChangeOp::create) {
      auto bridge_item = change.after;
      bridge_item["name"] = bridge;
      transaction.create_bridge(bridge_item);
    } else if (change.op == ChangeOp::remove) {
      TRY(transaction.remove_bridge(bridge));
    } else {
      transaction.update_bridge(bridge, change.after);
    }
    return ok();
  }
  auto port = change.id.substr(slash + 1);
  if (change.op == ChangeOp::create) {
    auto port_item = change.after;
    port_item["name"] = port;
    transaction.add_port(bridge, port_item);
    return ok();
  }
  if (change.op == ChangeOp::remove) return transaction.remove_port(bridge, port);
  return transaction.update_port(bridge, port, change.after);
}

}  // namespace

Json normalise(const Rows& rows) {
  Json bridges = Json::array();
  for (const auto& [uuid, bridge] : rows.bridges) bridges.push_back(bridge_json(bridge, rows));
  std::sort(bridges.begin(), bridges.end(),
            [](const Json& a, const Json& b) { return a["name"] < b["name"]; });
  return {{"bridges", bridges}};
}

std::vector<Problem> validate_bridges(const Json& section, const std::string& base_pointer) {
  std::vector<Problem> problems;
  std::map<std::string, std::string> port_owner;
  const auto bridges = section.value("bridges", Json::array());
  std::set<std::string> bridge_names;
  for (size_t i = 0; i < bridges.size(); ++i) {
    auto pointer = pointer_append(base_pointer + "/bridges", i);
    auto name = bridges[i]["name"].get<std::string>();
    if (!bridge_names.insert(name).second)
      problems.push_back({pointer + "/name", fmt::format("bridge {} is declared twice", name)});
    const auto ports = bridges[i].value("ports", Json::array());
    for (size_t j = 0; j < ports.size(); ++j) {
      auto port = ports[j]["name"].get<std::string>();
      auto port_pointer = pointer_append(pointer + "/ports", j) + "/name";
      if (port == name)
        problems.push_back({port_pointer, fmt::format("{}'s own internal port is implicit; do not "
                                                      "list it",
                                                      name)});
      auto [owner, added] = port_owner.emplace(port, name);
      if (!added)
        problems.push_back({port_pointer, fmt::format("port {} is already a port of bridge {}",
                                                      port, owner->second)});
    }
  }
  return problems;
}

Result<std::vector<Change>> plan_bridges(const Json& current, const Json& desired) {
  std::vector<Change> changes;
  const auto existing = current.value("bridges", Json::array());
  const auto wanted = desired.value("bridges", Json::array());
  for (size_t i = 0; i < wanted.size(); ++i) {
    const auto& item = wanted[i];
    auto name = item["name"].get<std::string>();
    auto pointer = pointer_append("/bridges", i);
    bool observe = item.value("mode", "enforce") == "observe";
    const auto* have = find_named(existing, name);
    if (item.value("state", "") == "absent") {
      if (have)
        changes.push_back(
            make_change("ovs", "bridge", name, ChangeOp::remove, *have, Json(), observe, pointer));
      continue;
    }
    auto declared = pick(item, kBridgeFields);
    if (!have) {
      Json ports = Json::array();
      for (const auto& port : item.value("ports", Json::array())) {
        auto after = declared_port(port);
        after["name"] = port["name"];
        ports.push_back(after);
      }
      declared["ports"] = ports;
      changes.push_back(
          make_change("ovs", "bridge", name, ChangeOp::create, Json(), declared, observe, pointer));
      continue;
    }
    if (!declared_fields_match(*have, declared))
      changes.push_back(make_change("ovs", "bridge", name, ChangeOp::modify,
                                    project_onto(*have, declared), declared, observe, pointer));
    if (item.contains("ports")) plan_ports(*have, item, pointer, observe, changes);
  }
  return changes;
}

Result<Json> transaction_for(const std::vector<Change>& changes, const Rows& rows) {
  Transaction transaction(rows);
  for (const auto& change : changes) TRY(add_change(transaction, change));
  return transaction.finish();
}

Json checkpoint_bridges(const Json& current, const std::vector<Change>& changes) {
  std::set<std::string> touched;
  for (const auto& change : changes) touched.insert(change.id.substr(0, change.id.find('/')));
  Json bridges = Json::array();
  const auto existing = current.value("bridges", Json::array());
  for (const auto& name : touched) {
    const auto* have = find_named(existing, name);
    if (!have) {
      bridges.push_back({{"name", name}, {"state", "absent"}});
      continue;
    }
    auto bridge = *have;
    for (auto& port : bridge["ports"]) port.erase("error");
    bridges.push_back(std::move(bridge));
  }
  return {{"bridges", bridges}};
}

Json exact_bridges(const Json& target, const Json& current) {
  Json bridges = Json::array();
  const auto recorded = target.value("bridges", Json::array());
  for (auto bridge : recorded) {
    for (auto& port : bridge["ports"]) port.erase("error");
    bridges.push_back(std::move(bridge));
  }
  for (const auto& have : current.value("bridges", Json::array()))
    if (!find_named(recorded, have["name"].get<std::string>()))
      bridges.push_back({{"name", have["name"]}, {"state", "absent"}});
  return {{"bridges", bridges}};
}

}  // namespace opdbus::ovs
