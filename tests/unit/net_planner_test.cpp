// Unit tests for the net plugin's planner: golden cases under data/planner/<case>/ (current
// state as normalise() writes it, a desired section, the expected ordered plan), the no-op
// query round trip, and the planner's refusals.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "plugins/net/planner.h"

namespace opdbus::net {
namespace {

const std::filesystem::path kPlannerData = std::filesystem::path(OPDBUS_TEST_DATA) / "planner";

Json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path;
  return Json::parse(in);
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(kPlannerData, ec))
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// The plan as the fixtures spell it: kind, id, op and observe of every change, plus whichever of
// before, after and pointer the expected entry at the same position lists.
Json summarise(const std::vector<Change>& changes, const Json& expected) {
  Json out = Json::array();
  for (size_t i = 0; i < changes.size(); ++i) {
    const Json full = changes[i].to_json();
    Json entry = {{"kind", full["kind"]},
                  {"id", full["id"]},
                  {"op", full["op"]},
                  {"observe", full["observe"]}};
    if (i < expected.size())
      for (const char* key : {"before", "after", "pointer"})
        if (expected[i].contains(key)) entry[key] = full.value(key, Json());
    out.push_back(entry);
  }
  return out;
}

class PlannerGoldenTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::filesystem::path dir() const { return kPlannerData / GetParam(); }
};

TEST_P(PlannerGoldenTest, PlanMatchesTheFixture) {
  const Json current = read_json(dir() / "current.json");
  const Json desired = read_json(dir() / "desired.json");
  const Json expected = read_json(dir() / "plan.json");
  ASSERT_TRUE(expected.is_array());
  for (const auto& entry : expected)
    for (const char* key : {"kind", "id", "op", "observe"})
      ASSERT_TRUE(entry.contains(key))
          << "plan.json entry without '" << key << "': " << entry.dump();
  auto changes = plan_changes(current, desired);
  ASSERT_TRUE(changes.has_value()) << changes.error().describe();
  for (const auto& change : *changes) EXPECT_EQ(change.plugin, "net");
  const Json actual = summarise(*changes, expected);
  EXPECT_EQ(actual, expected) << "actual plan:\n" << actual.dump(2);
}

TEST_P(PlannerGoldenTest, CurrentStateAsDesiredIsANoOp) {
  const Json current = read_json(dir() / "current.json");
  auto changes = plan_changes(current, current);
  ASSERT_TRUE(changes.has_value()) << changes.error().describe();
  EXPECT_EQ(summarise(*changes, Json::array()), Json::array());
}

INSTANTIATE_TEST_SUITE_P(Cases, PlannerGoldenTest, ::testing::ValuesIn(case_names()),
                         [](const ::testing::TestParamInfo<std::string>& case_info) {
                           return case_info.param;
                         });

TEST(PlannerGoldenFixtures, AreFound) {
  auto names = case_names();
  EXPECT_GE(names.size(), 12u) << "fixtures missing under " << kPlannerData;
  for (const char* name : {"create_from_empty", "no_changes", "bridge_ports", "veth_peer_implicit"})
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
}

// A host in normalise() form for the error cases.
const Json kHost = Json::parse(R"({
  "interfaces": [
    {"name": "lo", "type": "loopback", "state": "up", "mtu": 65536, "index": 1,
     "operstate": "unknown"},
    {"name": "eth0", "type": "ethernet", "state": "up", "mtu": 1500, "index": 2, "operstate": "up"},
    {"name": "br0", "type": "bridge", "state": "up", "mtu": 1500,
     "bridge": {"stp": false, "ports": []}, "index": 3, "operstate": "up"},
    {"name": "veth0", "type": "veth", "state": "up", "mtu": 1500, "veth": {"peer": "veth1"},
     "index": 4, "operstate": "up"},
    {"name": "veth1", "type": "veth", "state": "up", "mtu": 1500, "veth": {"peer": "veth0"},
     "index": 5, "operstate": "up"}
  ],
  "routes": []
})");

Error plan_error(const Json& desired) {
  auto changes = plan_changes(kHost, desired);
  EXPECT_FALSE(changes.has_value()) << "planned " << changes->size() << " changes";
  return changes ? Error{} : changes.error();
}

Json interfaces(Json list) {
  return {{"interfaces", std::move(list)}};
}

TEST(PlannerErrorTest, CreatingWithoutATypeNamesThePointer) {
  auto error = plan_error(
      interfaces({{{"name", "eth0"}, {"mtu", 1500}}, {{"name", "eth9"}, {"mtu", 1400}}}));
  EXPECT_EQ(error.code, ErrorCode::invalid_input);
  EXPECT_NE(error.message.find("/interfaces/1: "), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("'eth9' does not exist"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("'type'"), std::string::npos) << error.message;
}

TEST(PlannerErrorTest, CreatingWithoutATypeAtTheFirstItem) {
  auto error = plan_error(interfaces({{{"name", "eth9"}}}));
  EXPECT_EQ(error.code, ErrorCode::invalid_input);
  EXPECT_EQ(error.message.rfind("/interfaces/0: ", 0), 0u) << error.message;
}

TEST(PlannerErrorTest, OpenVswitchInterfacesBelongToTheOvsPlugin) {
  auto host = kHost;
  host["interfaces"].push_back({{"name", "ovsbr0"}, {"type", "openvswitch"}, {"state", "up"}});
  auto removed = plan_changes(host, interfaces({{{"name", "ovsbr0"}, {"state", "absent"}}}));
  ASSERT_FALSE(removed);
  EXPECT_NE(removed.error().message.find("belong to the ovs plugin"), std::string::npos)
      << removed.error().message;
  auto addressed = plan_changes(
      host, interfaces({{{"name", "ovsbr0"},
                         {"mtu", 1400},
                         {"ipv4", {{"address", {{{"ip", "10.0.0.1"}, {"prefix", 24}}}}}}}}));
  EXPECT_TRUE(addressed) << addressed.error().describe();
}

TEST(PlannerErrorTest, TypeOfAnExistingLinkCannotChange) {
  auto error = plan_error(interfaces({{{"name", "eth0"}, {"type", "bridge"}}}));
  EXPECT_EQ(error.code, ErrorCode::invalid_input);
  EXPECT_NE(error.message.find("/interfaces/0/type"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("exists as a ethernet, not a bridge"), std::string::npos)
      << error.message;
}

TEST(PlannerErrorTest, EthernetCannotBeCreated) {
  auto error = plan_error(interfaces({{{"name", "eth9"}, {"type", "ethernet"}}}));
  EXPECT_EQ(error.code, ErrorCode::invalid_input);
  EXPECT_NE(error.message.find("/interfaces/0/type"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("type 'ethernet' cannot be created"), std::string::npos)
      << error.message;
}

TEST(PlannerErrorTest, UnknownMasterIsRefused) {
  auto error = plan_error(interfaces({{{"name", "eth0"}, {"master", "br9"}}}));
  EXPECT_EQ(error.code, ErrorCode::invalid_input);
  EXPECT_NE(error.message.find("/interfaces/0/master"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("'br9' does not exist and is not declared"), std::string::npos)
      << error.message;
}

TEST(PlannerErrorTest, MasterDeclaredAbsentIsRefused) {
  auto error = plan_error(
      interfaces({{{"name", "br9"}, {"state", "absent"}}, {{"name", "eth0"}, {"master", "br9"}}}));
  EXPECT_NE(error.message.find("/interfaces/1/master"), std::string::npos) << error.message;
}

TEST(PlannerErrorTest, VethPeerCannotChange) {
  auto error = plan_error(interfaces({{{"name", "veth0"}, {"veth", {{"peer", "veth7"}}}}}));
  EXPECT_NE(error.message.find("/interfaces/0/veth/peer"), std::string::npos) << error.message;
}

TEST(PlannerErrorTest, PortWithAnotherMasterConflictsWithBridgePorts) {
  auto error = plan_error(interfaces({{{"name", "br0"}, {"bridge", {{"ports", {"eth0"}}}}},
                                      {{"name", "eth0"}, {"master", nullptr}}}));
  EXPECT_EQ(error.code, ErrorCode::invalid_input);
  EXPECT_NE(error.message.find("/interfaces/0/bridge/ports"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("/interfaces/1"), std::string::npos) << error.message;
}

TEST(PlannerErrorTest, VlanNeedsItsBase) {
  auto error =
      plan_error(interfaces({{{"name", "vlan5"}, {"type", "vlan"}, {"vlan", {{"id", 5}}}}}));
  EXPECT_NE(error.message.find("vlan.base"), std::string::npos) << error.message;
}

Change change_of(const char* kind, ChangeOp op) {
  Change change;
  change.kind = kind;
  change.op = op;
  return change;
}

TEST(ChangePhaseTest, RemovalsFirstThenLinksThenAddressesThenRoutes) {
  const std::vector<Change> in_order = {
      change_of("route", ChangeOp::remove), change_of("address", ChangeOp::remove),
      change_of("link", ChangeOp::remove),  change_of("link", ChangeOp::create),
      change_of("link", ChangeOp::modify),  change_of("address", ChangeOp::create),
      change_of("route", ChangeOp::create),
  };
  for (size_t i = 0; i < in_order.size(); ++i)
    EXPECT_EQ(change_phase(in_order[i]), static_cast<int>(i))
        << in_order[i].kind << " " << change_op_name(in_order[i].op);
  EXPECT_EQ(change_phase(change_of("address", ChangeOp::modify)),
            change_phase(change_of("address", ChangeOp::create)));
  EXPECT_EQ(change_phase(change_of("route", ChangeOp::modify)),
            change_phase(change_of("route", ChangeOp::create)));
}

}  // namespace
}  // namespace opdbus::net
