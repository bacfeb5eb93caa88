// OVSDB stream framing and the ovs plugin's model: rows <-> shape, the diff, the transaction.
#include <gtest/gtest.h>

#include "plugins/ovs/model.h"
#include "proto/ovsdb/client.h"
#include "proto/ovsdb/framing.h"

namespace opdbus {
namespace {

TEST(OvsdbFraming, SplitsConcatenatedMessagesAcrossReads) {
  ovsdb::MessageSplitter splitter;
  std::string stream =
      R"({"id":1,"result":[{"rows":[]}],"error":null}  {"method":"echo","params":["}{\"]"],"id":"x"})"
      "\n[1,2]";
  std::vector<std::string> messages;
  for (size_t at = 0; at < stream.size(); at += 7) {
    auto got = splitter.feed(std::string_view(stream).substr(at, 7));
    ASSERT_TRUE(got) << got.error().describe();
    messages.insert(messages.end(), got->begin(), got->end());
  }
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(Json::parse(messages[1])["params"][0], "}{\"]");
  EXPECT_EQ(messages[2], "[1,2]");
  EXPECT_FALSE(splitter.feed("x"));
  ovsdb::MessageSplitter small(8);
  EXPECT_FALSE(small.feed(R"({"a":"123456789"})"));
}

// OVSDB notation built explicitly (nlohmann reads {"uuid", "x"} as an object).
Json uuid(const char* value) {
  return Json::array({"uuid", value});
}
Json set(Json items) {
  return Json::array({"set", std::move(items)});
}
Json map(Json pairs) {
  return Json::array({"map", std::move(pairs)});
}
Json pair(const char* key, const char* value) {
  return Json::array({key, value});
}

TEST(OvsdbNotation, SetsAndMaps) {
  EXPECT_EQ(ovsdb::set_items(set(Json::array({1, 2}))), Json::array({1, 2}));
  EXPECT_EQ(ovsdb::set_items(5), Json::array({5}));
  EXPECT_EQ(ovsdb::set_items(uuid("a")), Json::array({uuid("a")}));
  EXPECT_EQ(ovsdb::map_object(map(Json::array({pair("k", "v")}))), Json({{"k", "v"}}));
  EXPECT_EQ(ovsdb::uuid_of(uuid("abc")), "abc");
  EXPECT_EQ(ovsdb::ovsdb_map({{"a", "b"}}), map(Json::array({pair("a", "b")})));
}

ovs::Rows sample_rows() {
  ovs::Rows rows;
  rows.bridges["b1"] = {{"_uuid", uuid("b1")},
                        {"name", "br0"},
                        {"datapath_type", ""},
                        {"fail_mode", set(Json::array())},
                        {"stp_enable", false},
                        {"other_config", map(Json::array())},
                        {"external_ids", map(Json::array({pair("k", "v")}))},
                        {"ports", set(Json::array({uuid("p0"), uuid("p1")}))}};
  rows.ports["p0"] = {{"name", "br0"}, {"interfaces", uuid("i0")}};
  rows.ports["p1"] = {{"name", "eth1"},
                      {"interfaces", uuid("i1")},
                      {"tag", 10},
                      {"trunks", set(Json::array())},
                      {"vlan_mode", set(Json::array())},
                      {"external_ids", map(Json::array())}};
  rows.interfaces["i0"] = {{"name", "br0"}, {"type", "internal"}};
  rows.interfaces["i1"] = {{"name", "eth1"},
                           {"type", ""},
                           {"options", map(Json::array())},
                           {"error", set(Json::array())}};
  return rows;
}

TEST(OvsModel, NormalisesRowsWithoutTheInternalPort) {
  auto state = ovs::normalise(sample_rows());
  const auto& bridge = state["bridges"][0];
  EXPECT_EQ(bridge["datapath_type"], "system");
  EXPECT_TRUE(bridge["fail_mode"].is_null());
  ASSERT_EQ(bridge["ports"].size(), 1u);
  EXPECT_EQ(bridge["ports"][0]["name"], "eth1");
  EXPECT_EQ(bridge["ports"][0]["type"], "system");
  EXPECT_EQ(bridge["ports"][0]["tag"], 10);
  auto again = ovs::plan_bridges(state, state);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty());
}

TEST(OvsModel, PortsAreTheCompleteSetAndOneTransactionAppliesThem) {
  auto rows = sample_rows();
  auto current = ovs::normalise(rows);
  Json desired = {
      {"bridges",
       {{{"name", "br0"}, {"ports", {{{"name", "eth2"}, {"tag", 20}}}}},
        {{"name", "br1"}, {"datapath_type", "netdev"}, {"ports", {{{"name", "v0"}}}}}}}};
  auto changes = ovs::plan_bridges(current, desired);
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->size(), 3u);
  EXPECT_EQ((*changes)[0].id, "br0/eth2");
  EXPECT_EQ((*changes)[1].op, ChangeOp::remove);
  EXPECT_EQ((*changes)[2].op, ChangeOp::create);
  auto operations = ovs::transaction_for(*changes, rows);
  ASSERT_TRUE(operations);
  std::vector<std::string> ops;
  for (const auto& op : *operations)
    ops.push_back(op["op"].get<std::string>() + " " + op["table"].get<std::string>());
  EXPECT_EQ(ops, (std::vector<std::string>{"insert Interface", "insert Port", "mutate Bridge",
                                           "mutate Bridge", "insert Interface", "insert Port",
                                           "insert Interface", "insert Port", "insert Bridge",
                                           "mutate Open_vSwitch", "mutate Open_vSwitch",
                                           "select Open_vSwitch"}));
  EXPECT_EQ((*operations)[3]["mutations"][0][2], set(Json::array({uuid("p1")})));
  EXPECT_EQ((*operations)[8]["row"]["ports"][1].size(), 2u);
}

TEST(OvsModel, CheckpointsCoverTouchedBridgesAndAbsentOnes) {
  auto current = ovs::normalise(sample_rows());
  Change create;
  create.kind = "bridge";
  create.id = "br9";
  Change port;
  port.kind = "port";
  port.id = "br0/eth1";
  auto data = ovs::checkpoint_bridges(current, {create, port});
  ASSERT_EQ(data["bridges"].size(), 2u);
  EXPECT_EQ(data["bridges"][0]["name"], "br0");
  EXPECT_EQ(data["bridges"][1], Json({{"name", "br9"}, {"state", "absent"}}));
}

}  // namespace
}  // namespace opdbus
