// Unit tests for the net plugin's semantic validation (validate_section): every problem the
// JSON Schema cannot catch, each with the JSON pointer of the offending value.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plugins/net/model.h"

namespace opdbus::net {
namespace {

std::string describe(const std::vector<Problem>& problems) {
  std::string out;
  for (const auto& problem : problems) out += "\n  " + problem.pointer + ": " + problem.message;
  return out;
}

// Validates `section` and expects exactly one problem, at `pointer`, whose message contains
// `fragment`.
void expect_one_problem(const Json& section, const std::string& pointer,
                        const std::string& fragment) {
  auto problems = validate_section(section, "/plugins/net");
  ASSERT_EQ(problems.size(), 1u) << describe(problems);
  EXPECT_EQ(problems[0].pointer, pointer);
  EXPECT_NE(problems[0].message.find(fragment), std::string::npos) << problems[0].message;
}

Json with_ipv4(const char* ip, int prefix) {
  return {{"interfaces",
           {{{"name", "eth0"}, {"ipv4", {{"address", {{{"ip", ip}, {"prefix", prefix}}}}}}}}}};
}

Json with_route(Json route) {
  return {{"routes", Json::array({std::move(route)})}};
}

TEST(NetValidateTest, ValidSectionHasNoProblems) {
  const Json section = Json::parse(R"({
    "interfaces": [
      {"name": "br0", "type": "bridge", "bridge": {"stp": true, "ports": ["veth0"]},
       "ipv4": {"address": [{"ip": "10.10.0.1", "prefix": 24}, {"ip": "10.10.1.1", "prefix": 24}]},
       "ipv6": {"address": [{"ip": "2001:db8::1", "prefix": 64, "preferred_lifetime": 60,
                             "valid_lifetime": 120}]}},
      {"name": "veth0", "type": "veth", "veth": {"peer": "veth1"}},
      {"name": "vlan5", "type": "vlan", "vlan": {"base": "eth0", "id": 5}},
      {"name": "vx0", "vxlan": {"id": 9, "local": "192.0.2.1", "remote": "192.0.2.2"}},
      {"name": "eth0", "master": null}
    ],
    "routes": [
      {"destination": "default", "gateway": "10.10.0.254"},
      {"destination": "default", "gateway": "fe80::1", "dev": "br0"},
      {"destination": "10.9.0.0/16", "dev": "br0"},
      {"destination": "10.9.0.0/16", "dev": "br0", "metric": 100},
      {"destination": "10.9.0.0/16", "dev": "br0", "table": 100},
      {"destination": "198.51.100.0/24", "type": "blackhole"},
      {"destination": "10.8.0.0/16", "state": "absent"}
    ]
  })");
  EXPECT_EQ(describe(validate_section(section, "/plugins/net")), "");
}

TEST(NetValidateTest, EmptySectionHasNoProblems) {
  EXPECT_TRUE(validate_section(Json::object(), "/plugins/net").empty());
}

TEST(NetValidateTest, BadIpv4Address) {
  expect_one_problem(with_ipv4("10.0.0.300", 24), "/plugins/net/interfaces/0/ipv4/address/0/ip",
                     "'10.0.0.300' is not an IPv4 or IPv6 address");
}

TEST(NetValidateTest, Ipv6AddressInTheIpv4List) {
  expect_one_problem(with_ipv4("2001:db8::1", 64), "/plugins/net/interfaces/0/ipv4/address/0/ip",
                     "'2001:db8::1' is not an IPv4 address");
}

TEST(NetValidateTest, Ipv4AddressInTheIpv6List) {
  const Json section = {
      {"interfaces",
       {{{"name", "eth0"}, {"ipv6", {{"address", {{{"ip", "10.0.0.1"}, {"prefix", 24}}}}}}}}}};
  expect_one_problem(section, "/plugins/net/interfaces/0/ipv6/address/0/ip",
                     "'10.0.0.1' is not an IPv6 address");
}

TEST(NetValidateTest, PrefixTooLongForIpv4) {
  expect_one_problem(with_ipv4("10.0.0.1", 33), "/plugins/net/interfaces/0/ipv4/address/0/prefix",
                     "prefix 33 is longer than 32");
}

TEST(NetValidateTest, AddressListedTwice) {
  const Json section = Json::parse(R"({"interfaces": [{"name": "eth0", "ipv6": {"address": [
      {"ip": "2001:db8::1", "prefix": 64}, {"ip": "2001:DB8:0::1", "prefix": 48}]}}]})");
  expect_one_problem(section, "/plugins/net/interfaces/0/ipv6/address/1/ip",
                     "2001:db8::1 is listed twice");
}

TEST(NetValidateTest, PreferredLifetimeBeyondValid) {
  const Json section = Json::parse(R"({"interfaces": [{"name": "eth0", "ipv4": {"address": [
      {"ip": "10.0.0.1", "prefix": 24, "preferred_lifetime": 600, "valid_lifetime": 300}]}}]})");
  expect_one_problem(section, "/plugins/net/interfaces/0/ipv4/address/0/preferred_lifetime",
                     "preferred_lifetime exceeds valid_lifetime");
}

TEST(NetValidateTest, DuplicateInterfaceNames) {
  const Json section = {
      {"interfaces", {{{"name", "eth0"}}, {{"name", "eth1"}}, {{"name", "eth0"}, {"mtu", 9000}}}}};
  expect_one_problem(section, "/plugins/net/interfaces/2/name",
                     "interface 'eth0' is declared twice");
}

TEST(NetValidateTest, KindSectionMustMatchTheType) {
  const Json section = {
      {"interfaces", {{{"name", "br0"}, {"type", "bridge"}, {"vlan", {{"id", 5}}}}}}};
  expect_one_problem(section, "/plugins/net/interfaces/0/vlan",
                     "'vlan' settings on an interface of type 'bridge'");
}

TEST(NetValidateTest, InterfaceCannotBeItsOwnMasterOrPeer) {
  expect_one_problem({{"interfaces", {{{"name", "br0"}, {"master", "br0"}}}}},
                     "/plugins/net/interfaces/0/master", "its own master");
  expect_one_problem({{"interfaces", {{{"name", "veth0"}, {"veth", {{"peer", "veth0"}}}}}}},
                     "/plugins/net/interfaces/0/veth/peer", "its own peer");
}

TEST(NetValidateTest, VlanNeedsABase) {
  expect_one_problem(
      {{"interfaces", {{{"name", "vlan5"}, {"type", "vlan"}, {"vlan", {{"id", 5}}}}}}},
      "/plugins/net/interfaces/0/vlan", "base interface");
}

TEST(NetValidateTest, BadVxlanEndpoint) {
  expect_one_problem(
      {{"interfaces", {{{"name", "vx0"}, {"vxlan", {{"id", 1}, {"remote", "nowhere"}}}}}}},
      "/plugins/net/interfaces/0/vxlan/remote", "'nowhere' is not an IPv4 or IPv6 address");
}

TEST(NetValidateTest, RouteWithHostBitsSuggestsTheMaskedPrefix) {
  expect_one_problem(with_route({{"destination", "10.1.2.3/8"}, {"dev", "eth0"}}),
                     "/plugins/net/routes/0/destination",
                     "'10.1.2.3/8' has host bits set; did you mean '10.0.0.0/8'?");
  expect_one_problem(with_route({{"destination", "2001:db8::1/64"}, {"dev", "eth0"}}),
                     "/plugins/net/routes/0/destination", "did you mean '2001:db8::/64'?");
}

TEST(NetValidateTest, BadDestination) {
  expect_one_problem(with_route({{"destination", "10.0.0.0/40"}, {"dev", "eth0"}}),
                     "/plugins/net/routes/0/destination", "invalid prefix length");
}

TEST(NetValidateTest, GatewayAndDestinationFamiliesDiffer) {
  expect_one_problem(with_route({{"destination", "10.0.0.0/8"}, {"gateway", "2001:db8::1"}}),
                     "/plugins/net/routes/0/gateway", "different address families");
  expect_one_problem(with_route({{"destination", "2001:db8:1::/48"}, {"gateway", "10.0.0.1"}}),
                     "/plugins/net/routes/0/gateway", "different address families");
}

TEST(NetValidateTest, BlackholeRouteTakesNoGateway) {
  expect_one_problem(
      with_route({{"destination", "10.0.0.0/8"}, {"type", "blackhole"}, {"gateway", "10.1.1.1"}}),
      "/plugins/net/routes/0/type", "a blackhole route takes neither gateway nor dev");
}

TEST(NetValidateTest, UnicastRouteNeedsGatewayOrDev) {
  expect_one_problem(with_route({{"destination", "10.0.0.0/8"}}), "/plugins/net/routes/0",
                     "a unicast route needs a gateway or a dev");
  expect_one_problem(
      with_route({{"destination", "10.0.0.0/8"}, {"type", "unicast"}, {"metric", 5}}),
      "/plugins/net/routes/0", "needs a gateway or a dev");
}

TEST(NetValidateTest, DuplicateRouteKeys) {
  const Json section = Json::parse(R"({"routes": [
      {"destination": "default", "gateway": "10.0.0.1"},
      {"destination": "10.9.0.0/16", "dev": "eth0"},
      {"destination": "0.0.0.0/0", "dev": "eth0", "table": 254, "metric": 0}]})");
  expect_one_problem(section, "/plugins/net/routes/2",
                     "route 0.0.0.0/0 table 254 metric 0 is declared twice");
}

TEST(NetValidateTest, SeveralProblemsAreAllReported) {
  const Json section = Json::parse(R"({
    "interfaces": [{"name": "eth0", "ipv4": {"address": [{"ip": "bad", "prefix": 24}]}},
                   {"name": "eth0"}],
    "routes": [{"destination": "10.1.0.0/8", "gateway": "10.0.0.1"},
               {"destination": "10.2.0.0/16"}]})");
  auto problems = validate_section(section, "/plugins/net");
  ASSERT_EQ(problems.size(), 4u) << describe(problems);
  EXPECT_EQ(problems[0].pointer, "/plugins/net/interfaces/0/ipv4/address/0/ip");
  EXPECT_EQ(problems[1].pointer, "/plugins/net/interfaces/1/name");
  EXPECT_EQ(problems[2].pointer, "/plugins/net/routes/0/destination");
  EXPECT_EQ(problems[3].pointer, "/plugins/net/routes/1");
}

}  // namespace
}  // namespace opdbus::net
