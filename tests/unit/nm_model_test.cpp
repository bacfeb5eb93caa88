// The networkmanager plugin's pure logic: settings <-> shape, read-modify-write, the diff.
#include <gtest/gtest.h>

#include "plugins/networkmanager/model.h"

namespace opdbus::nm {
namespace {

Json typed(const char* signature, Json value) {
  return {{"signature", signature}, {"value", std::move(value)}};
}

// NetworkManager's GetSettings of a static ethernet profile, read with typed variants.
Json static_profile() {
  return {{"connection",
           {{"id", typed("s", "lan")},
            {"uuid", typed("s", "0b5d3a4c-0000-4000-8000-000000000001")},
            {"type", typed("s", "802-3-ethernet")},
            {"interface-name", typed("s", "eth0")},
            {"timestamp", typed("t", 1700000000)}}},
          {"802-3-ethernet", {{"mtu", typed("u", 9000)}}},
          {"ipv4",
           {{"method", typed("s", "manual")},
            {"address-data", typed("aa{sv}", Json::array({{{"address", typed("s", "10.0.0.2")},
                                                           {"prefix", typed("u", 24)}}}))},
            {"addresses", typed("aau", Json::array({Json::array({33554442, 24, 0})}))},
            {"gateway", typed("s", "10.0.0.1")},
            {"dns", typed("au", Json::array({889192458}))}}}};  // 10.0.0.53
}

TEST(NmModel, SettingsBecomeTheDeclaredShape) {
  auto shape = connection_json(static_profile());
  EXPECT_EQ(shape["type"], "ethernet");
  EXPECT_EQ(shape["interface"], "eth0");
  EXPECT_EQ(shape["autoconnect"], true);  // NetworkManager omits defaults
  EXPECT_EQ(shape["ipv4"]["addresses"], Json({"10.0.0.2/24"}));
  EXPECT_EQ(shape["ipv4"]["gateway"], "10.0.0.1");
  EXPECT_EQ(shape["ipv4"]["dns"], Json({"10.0.0.53"}));
}

TEST(NmModel, UpdatesKeepWhatIsNotDeclared) {
  auto settings =
      apply_declared(static_profile(), "lan",
                     {{"ipv4", {{"addresses", {"10.0.0.3/24"}}, {"dns", {"10.0.0.9"}}}}}, "unused");
  ASSERT_TRUE(settings);
  EXPECT_EQ((*settings)["802-3-ethernet"]["mtu"], typed("u", 9000));
  EXPECT_EQ((*settings)["connection"]["uuid"]["value"], "0b5d3a4c-0000-4000-8000-000000000001");
  EXPECT_FALSE((*settings)["ipv4"].contains("addresses"));  // would override address-data
  EXPECT_EQ((*settings)["ipv4"]["address-data"]["value"][0]["prefix"], typed("u", 24));
  EXPECT_EQ((*settings)["ipv4"]["gateway"], typed("s", "10.0.0.1"));
  EXPECT_EQ(connection_json(*settings)["ipv4"]["dns"], Json({"10.0.0.9"}));
}

TEST(NmModel, NewProfilesGetTypeUuidAndIpv6Dns) {
  auto settings = apply_declared(
      Json::object(), "br",
      {{"type", "bridge"},
       {"interface", "br0"},
       {"bridge", {{"stp", false}}},
       {"ipv6",
        {{"method", "manual"}, {"addresses", {"2001:db8::1/64"}}, {"dns", {"2001:db8::53"}}}}},
      "11111111-2222-4333-8444-555555555555");
  ASSERT_TRUE(settings);
  EXPECT_EQ((*settings)["connection"]["type"], typed("s", "bridge"));
  EXPECT_EQ((*settings)["connection"]["uuid"]["value"], "11111111-2222-4333-8444-555555555555");
  EXPECT_EQ((*settings)["ipv6"]["dns"]["signature"], "aay");
  auto shape = connection_json(*settings);
  EXPECT_EQ(shape["ipv6"]["dns"], Json({"2001:db8::53"}));
  EXPECT_EQ(shape["bridge"]["stp"], false);
}

TEST(NmModel, DiffComparesDeclaredFieldsCanonically) {
  Json current = {{"connections", {{"lan", connection_json(static_profile())}}}};
  current["connections"]["lan"]["state"] = "active";
  Json same = {{"connections",
                {{"lan", {{"ipv4", {{"addresses", {"10.0.0.2/24"}}}}, {"state", "active"}}}}}};
  auto changes = plan_connections(current, same);
  ASSERT_TRUE(changes) << changes.error().describe();
  EXPECT_TRUE(changes->empty()) << (*changes)[0].to_json().dump();
  Json moved = {{"connections", {{"lan", {{"ipv4", {{"addresses", {"10.0.0.3/24"}}}}}}}}};
  changes = plan_connections(current, moved);
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].before, Json({{"ipv4", {{"addresses", {"10.0.0.2/24"}}}}}));
  Json gone = {{"connections", {{"lan", {{"state", "absent"}}}, {"other", {{"state", "absent"}}}}}};
  changes = plan_connections(current, gone);
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].op, ChangeOp::remove);
}

TEST(NmModel, PortsResolveTheirControllersTypeAndNewProfilesNeedOne) {
  Json desired = {
      {"connections",
       {{"br", {{"type", "bond"}, {"interface", "bond0"}}},
        {"p", {{"type", "ethernet"}, {"interface", "eth1"}, {"controller", "bond0"}}}}}};
  auto changes = plan_connections({{"connections", Json::object()}}, desired);
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[1].after["port_type"], "bond");
  auto untyped = plan_connections({{"connections", Json::object()}},
                                  {{"connections", {{"x", {{"interface", "eth9"}}}}}});
  ASSERT_FALSE(untyped);
  EXPECT_NE(untyped.error().message.find("declare its type"), std::string::npos);
}

TEST(NmModel, ValidationNamesEachBadValue) {
  Json section = {{"connections",
                   {{"lan",
                     {{"ipv4",
                       {{"method", "manual"},
                        {"addresses", {"10.0.0.300/24"}},
                        {"gateway", "::1"},
                        {"dns", {"x"}}}}}},
                    {"v", {{"type", "vlan"}}}}}};
  auto problems = validate_connections(section, "/plugins/networkmanager");
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_EQ(problems[0].pointer, "/plugins/networkmanager/connections/lan/ipv4/addresses/0");
  EXPECT_EQ(problems[1].pointer, "/plugins/networkmanager/connections/lan/ipv4/gateway");
  EXPECT_EQ(problems[2].pointer, "/plugins/networkmanager/connections/lan/ipv4/dns/0");
  EXPECT_NE(problems[3].message.find("vlan.parent and vlan.id"), std::string::npos);
}

}  // namespace
}  // namespace opdbus::nm
