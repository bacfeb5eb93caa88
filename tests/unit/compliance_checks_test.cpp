// Declarative compliance checks: policy parsing (every mistake named with its pointer), each
// operator, members of objects and arrays, expect_none, a missing source as an error, and time
// conditions against a fixed clock.
#include <gtest/gtest.h>

#include "compliance/checks.h"

namespace opdbus::compliance {
namespace {

TimePoint at(const char* text) {
  return *parse_rfc3339(text);
}
std::string where_is(const std::string& pointer) {
  return "policy.yaml(" + pointer + ")";
}

std::vector<Check> parse(const Json& policy) {
  auto checks = parse_checks(policy, where_is);
  EXPECT_TRUE(checks) << checks.error().describe();
  return checks ? *checks : std::vector<Check>{};
}

std::string parse_error(const Json& policy) {
  auto checks = parse_checks(policy, where_is);
  EXPECT_FALSE(checks);
  return checks ? "" : checks.error().message;
}

const Sources kSources = {
    {"systemd",
     {{"units",
       {{"telnet.socket", {{"enabled", true}, {"active_state", "active"}}},
        {"ssh.service", {{"enabled", true}, {"active_state", "active"}}}}}}},
    {"net",
     {{"interfaces",
       Json::array({{{"name", "br0"}, {"type", "bridge"}, {"bridge", {{"stp", false}}}},
                    {{"name", "br1"}, {"type", "bridge"}, {"bridge", {{"stp", true}}}},
                    {{"name", "eth0"}, {"type", "ethernet"}, {"mtu", 9000}}})}}},
    {"ledger", {{"verified", true}, {"last_verified", "2026-01-05T08:00:00Z"}}}};

CheckResult run_one(const Json& check, TimePoint now = at("2026-01-05T10:00:00Z")) {
  auto checks = parse({{"checks", Json::array({check})}});
  if (checks.empty()) return {};
  return run_checks(checks, kSources, now).at(0);
}

TEST(ComplianceChecks, NoTelnetSocketEnabled) {
  auto result =
      run_one({{"id", "no-telnet"},
               {"controls", {{"pci-dss", {"2.2.2"}}}},
               {"query", "systemd"},
               {"select", "/units"},
               {"where", {{"key", {{"matches", "^telnet\\."}}}, {"enabled", {{"equals", true}}}}},
               {"expect_none", true}});
  EXPECT_EQ(result.status, "fail");
  EXPECT_EQ(result.reason, "telnet.socket matches");
  EXPECT_EQ(result.controls, Json({{"pci-dss", {"2.2.2"}}}));
}

TEST(ComplianceChecks, EveryBridgeHasStpOff) {
  auto result = run_one({{"id", "stp-off"},
                         {"query", "net"},
                         {"select", "/interfaces"},
                         {"where", {{"type", {{"equals", "bridge"}}}}},
                         {"expect", {{"/bridge/stp", {{"equals", false}}}}}});
  EXPECT_EQ(result.status, "fail");
  EXPECT_EQ(result.reason, "br1: /bridge/stp is true (expected equals false)");
}

TEST(ComplianceChecks, Operators) {
  auto eth = [](const Json& expect) {
    return run_one({{"id", "eth"},
                    {"query", "net"},
                    {"select", "/interfaces"},
                    {"where", {{"name", {{"in", {"eth0", "eth1"}}}}}},
                    {"expect", expect}})
        .status;
  };
  EXPECT_EQ(eth({{"mtu", {{"greater_than", 1500}}}}), "pass");
  EXPECT_EQ(eth({{"mtu", {{"less_than", 1500}}}}), "fail");
  EXPECT_EQ(eth({{"mtu", {{"not_equals", 1500}}}}), "pass");
  EXPECT_EQ(eth({{"bridge", {{"exists", false}}}}), "pass");
  EXPECT_EQ(eth({{"mtu", {{"exists", false}}}}), "fail");
  EXPECT_EQ(eth({{"type", {{"matches", "^ether"}}}}), "pass");
}

TEST(ComplianceChecks, LedgerVerifiedWithinADay) {
  Json check = {
      {"id", "ledger"},
      {"query", "ledger"},
      {"expect", {{"verified", {{"equals", true}}}, {"last_verified", {{"within", "24h"}}}}}};
  EXPECT_EQ(run_one(check).status, "pass");
  auto late = run_one(check, at("2026-01-06T09:00:00Z"));
  EXPECT_EQ(late.status, "fail");
  EXPECT_NE(late.reason.find("last_verified is \"2026-01-05T08:00:00Z\" (expected within \"24h\")"),
            std::string::npos)
      << late.reason;
}

TEST(ComplianceChecks, MissingSourceOrPathIsAnError) {
  EXPECT_EQ(
      run_one({{"id", "ovs"}, {"query", "ovs"}, {"expect", {{"x", {{"exists", true}}}}}}).status,
      "error");
  auto missing = run_one({{"id", "nope"},
                          {"query", "net"},
                          {"select", "/routes"},
                          {"expect", {{"x", {{"exists", true}}}}}});
  EXPECT_EQ(missing.status, "error");
  EXPECT_EQ(missing.reason, "net has nothing at /routes");
}

TEST(ComplianceChecks, PolicyMistakesNameTheirPointer) {
  Json good = {{"id", "a"}, {"query", "net"}, {"expect", {{"x", {{"exists", true}}}}}};
  auto with = [&](const char* key, const Json& value) {
    auto check = good;
    check[key] = value;
    return Json{{"checks", Json::array({check})}};
  };
  EXPECT_EQ(parse_error({{"checks", Json::array()}}),
            "policy.yaml(/checks): /checks: expected a list of checks");
  EXPECT_EQ(parse_error(with("expect", {{"x", {{"equal", 1}}}})),
            "policy.yaml(/checks/0/expect/x/equal): /checks/0/expect/x/equal: unknown operator; "
            "expected one of equals, not_equals, in, matches, exists, less_than, greater_than, "
            "within");
  EXPECT_NE(parse_error(with("expect", {{"x", {{"matches", "("}}}})).find("not a valid regex"),
            std::string::npos);
  EXPECT_NE(parse_error(with("expect", {{"x", {{"within", "a day"}}}})).find("expected a duration"),
            std::string::npos);
  EXPECT_NE(parse_error(with("colour", "red")).find("/checks/0/colour: unknown key"),
            std::string::npos);
  EXPECT_NE(parse_error(with("select", "units")).find("expected a JSON pointer"),
            std::string::npos);
  EXPECT_NE(parse_error(with("expect_none", true)).find("exactly one of"), std::string::npos);
  Json twice = {{"checks", Json::array({good, good})}};
  EXPECT_NE(parse_error(twice).find("duplicate id 'a'"), std::string::npos);
}

}  // namespace
}  // namespace opdbus::compliance
