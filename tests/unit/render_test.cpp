// Unit tests for plan rendering: the terraform-like text form (markers, field lines, summary,
// observe drift) and the JSON form's summary counts, on plans built by hand.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "engine/render.h"

namespace opdbus {
namespace {

Change change_of(std::string kind, std::string id, ChangeOp op, Json before, Json after,
                 bool observe = false) {
  Change change;
  change.plugin = "net";
  change.kind = std::move(kind);
  change.id = std::move(id);
  change.op = op;
  change.before = std::move(before);
  change.after = std::move(after);
  change.observe = observe;
  if (change.kind == "address") change.identity_fields = {"interface", "ip", "prefix"};
  return change;
}

Plan plan_of(std::vector<Change> changes) {
  Plan plan;
  PluginPlan plugin_plan;  // render reads only the changes, never the plugin
  plugin_plan.changes = std::move(changes);
  plan.plugins.push_back(std::move(plugin_plan));
  return plan;
}

Plan mixed_plan() {
  return plan_of({
      change_of("link", "br0", ChangeOp::create, Json(), {{"type", "bridge"}, {"state", "up"}}),
      change_of("link", "eth0", ChangeOp::modify, {{"mtu", 1500}}, {{"mtu", 9000}}),
      change_of("address", "10.0.0.6/24 on eth0", ChangeOp::remove,
                {{"ip", "10.0.0.6"}, {"prefix", 24}, {"interface", "eth0"}}, Json()),
      change_of("address", "10.0.0.7/24 on eth0", ChangeOp::create, Json(),
                {{"ip", "10.0.0.7"}, {"prefix", 24}, {"interface", "eth0"}}),
      change_of("link", "eth1", ChangeOp::modify, {{"mtu", 1500}}, {{"mtu", 1400}}, true),
  });
}

TEST(RenderTextTest, MarkersFieldsAndSummary) {
  EXPECT_EQ(render_plan_text(mixed_plan(), false),
            "  + net link br0 (create)\n"
            "      state              up\n"
            "      type               bridge\n"
            "  ~ net link eth0\n"
            "      mtu                1500 -> 9000\n"
            "  - net address 10.0.0.6/24 on eth0 (remove)\n"
            "  + net address 10.0.0.7/24 on eth0 (create)\n"
            "  ! net link eth1 (observe: drift reported, not changed)\n"
            "      mtu                1500 -> 1400\n"
            "\n"
            "Plan: 2 to create, 1 to change, 1 to remove.\n"
            "Drift observed on 1 observe-mode item(s).\n");
}

TEST(RenderTextTest, ColourPaintsTheTitles) {
  const std::string text = render_plan_text(mixed_plan(), true);
  EXPECT_NE(text.find("  \033[32m+ net link br0 (create)\033[0m\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  \033[33m~ net link eth0\033[0m\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  \033[31m- net address 10.0.0.6/24 on eth0 (remove)\033[0m\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\033[35m! net link eth1"), std::string::npos) << text;
  EXPECT_EQ(render_plan_text(mixed_plan(), false).find('\033'), std::string::npos);
}

TEST(RenderTextTest, EmptyPlanSaysNoChanges) {
  EXPECT_EQ(render_plan_text(Plan{}, false), "No changes. The host matches the desired state.\n");
  EXPECT_EQ(render_plan_text(plan_of({}), false),
            "No changes. The host matches the desired state.\n");
}

TEST(RenderTextTest, ObserveOnlyPlanHasNoChangesButReportsDrift) {
  Plan plan =
      plan_of({change_of("route", "10.50.0.0/16 table 254 metric 0", ChangeOp::create, Json(),
                         {{"destination", "10.50.0.0/16"}, {"dev", "eth0"}}, true)});
  EXPECT_EQ(render_plan_text(plan, false),
            "  ! net route 10.50.0.0/16 table 254 metric 0 (observe: drift reported, not changed)\n"
            "      destination        10.50.0.0/16\n"
            "      dev                eth0\n"
            "No changes. The host matches the desired state.\n"
            "Drift observed on 1 observe-mode item(s).\n");
}

TEST(RenderTextTest, NullAndAddressListsReadNaturally) {
  Plan plan = plan_of({
      change_of("link", "eth2", ChangeOp::modify, {{"master", "br0"}}, {{"master", nullptr}}),
      change_of("link", "eth0", ChangeOp::modify,
                Json::parse(R"({"ipv4": {"address": [{"ip": "10.0.0.1", "prefix": 24}]}})"),
                Json::parse(R"({"ipv4": {"address": [{"ip": "10.0.0.1", "prefix": 24},
                                                     {"ip": "10.0.0.2", "prefix": 24}]}})")),
  });
  EXPECT_EQ(render_plan_text(plan, false),
            "  ~ net link eth2\n"
            "      master             br0 -> (none)\n"
            "  ~ net link eth0\n"
            "      ipv4/address       [10.0.0.1/24] -> [10.0.0.1/24, 10.0.0.2/24]\n"
            "\n"
            "Plan: 0 to create, 2 to change, 0 to remove.\n");
}

TEST(RenderJsonTest, SummaryCountsAndChanges) {
  const Plan plan = mixed_plan();
  Json json = render_plan_json(plan);
  EXPECT_EQ(json["summary"], (Json{{"create", 2}, {"modify", 1}, {"remove", 1}, {"observe", 1}}));
  ASSERT_EQ(json["changes"].size(), 5u);
  EXPECT_EQ(json["changes"][0], plan.plugins[0].changes[0].to_json());
  EXPECT_EQ(json["changes"][2]["op"], "remove");
  EXPECT_EQ(json["changes"][4]["observe"], true);
}

TEST(RenderJsonTest, EmptyPlan) {
  EXPECT_EQ(
      render_plan_json(Plan{}),
      Json::parse(
          R"({"changes": [], "summary": {"create": 0, "modify": 0, "remove": 0, "observe": 0}})"));
}

TEST(RenderJsonTest, ChangesOfSeveralPluginsAreConcatenated) {
  Plan plan = mixed_plan();
  Plan second =
      plan_of({change_of("link", "dummy0", ChangeOp::remove, {{"type", "dummy"}}, Json())});
  plan.plugins.push_back(second.plugins[0]);
  Json json = render_plan_json(plan);
  EXPECT_EQ(json["summary"]["remove"], 2);
  ASSERT_EQ(json["changes"].size(), 6u);
  EXPECT_EQ(json["changes"][5]["id"], "dummy0");
}

}  // namespace
}  // namespace opdbus
