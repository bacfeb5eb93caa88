// The systemd plugin's pure logic: normalisation, validation, the diff and the order of steps.
#include <gtest/gtest.h>

#include "plugins/systemd/model.h"

namespace opdbus::systemd {
namespace {

Json current_with(const std::string& name, UnitStatus status, Json extra = Json::object()) {
  auto state = normalise_units({{name, status}});
  state["units"][name].update(extra);
  return state;
}

Change unit_change(const std::string& unit, Json before, Json after) {
  Change change;
  change.plugin = "systemd";
  change.kind = "unit";
  change.id = unit;
  change.before = std::move(before);
  change.after = std::move(after);
  return change;
}

UnitStatus running() {
  return {"loaded", "active", "running", "enabled"};
}

TEST(SystemdModel, NormalisesEnablementAndMasking) {
  auto unit = unit_json({"masked", "inactive", "dead", "masked"});
  EXPECT_EQ(unit["masked"], true);
  EXPECT_EQ(unit["enabled"], false);
  EXPECT_EQ(unit_json({"loaded", "active", "running", "enabled-runtime"})["enabled"], true);
  EXPECT_EQ(unit_json({"loaded", "active", "running", "static"})["enabled"], false);
}

TEST(SystemdModel, ComparesOnlyDeclaredFields) {
  auto current = current_with("a.service", running());
  auto changes = plan_units(current, {{"units", {{"a.service", {{"active_state", "active"}}}}}});
  ASSERT_TRUE(changes);
  EXPECT_TRUE(changes->empty());
  changes = plan_units(current, {{"units", {{"a.service", {{"enabled", false}}}}}});
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].before, Json({{"enabled", true}}));
  EXPECT_EQ((*changes)[0].pointer, "/units/a.service");
}

TEST(SystemdModel, AnUnknownUnitWithAFileIsCreated) {
  auto changes = plan_units(
      {{"units", Json::object()}},
      {{"units", {{"new.service", {{"unit_file", "[Service]\n"}, {"mode", "enforce"}}}}}});
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].op, ChangeOp::create);
  EXPECT_EQ((*changes)[0].before, Json({{"unit_file", nullptr}}));
}

TEST(SystemdModel, StepsUnmaskBeforeStartingAndStopBeforeMasking) {
  Change start = unit_change("a.service", {{"masked", true}, {"active_state", "inactive"}},
                             {{"masked", false}, {"active_state", "active"}});
  Change stop =
      unit_change("b.service", {{"masked", false}, {"active_state", "active"}, {"enabled", true}},
                  {{"masked", true}, {"active_state", "inactive"}, {"enabled", false}});
  auto steps = plan_steps({start, stop});
  EXPECT_EQ(steps.unmask, std::vector<std::string>{"a.service"});
  EXPECT_EQ(steps.mask, std::vector<std::string>{"b.service"});
  EXPECT_EQ(steps.disable, std::vector<std::string>{"b.service"});
  ASSERT_EQ(steps.jobs.size(), 2u);
  EXPECT_EQ(steps.jobs[0].kind, JobKind::start);
  EXPECT_EQ(steps.jobs[1].kind, JobKind::stop);
  EXPECT_TRUE(steps.reload_before_jobs());
}

TEST(SystemdModel, AChangedFileRestartsAnActiveUnitAndAFailedOneIsReset) {
  Change edit = unit_change("a.service", {{"unit_file", "old"}, {"active_state", "active"}},
                            {{"unit_file", "new"}, {"active_state", "active"}});
  Change failed =
      unit_change("b.service", {{"active_state", "failed"}}, {{"active_state", "inactive"}});
  auto steps = plan_steps({edit, failed});
  ASSERT_EQ(steps.files.size(), 1u);
  EXPECT_EQ(steps.files[0].content, "new");
  ASSERT_EQ(steps.jobs.size(), 1u);
  EXPECT_EQ(steps.jobs[0].kind, JobKind::restart);
  EXPECT_EQ(steps.reset_failed, std::vector<std::string>{"b.service"});
}

TEST(SystemdModel, CheckpointsKeepTheFileOfAUnitBeingMasked) {
  auto current = current_with("a.service", running(), {{"unit_file", "[Service]\n"}});
  Change mask = unit_change("a.service", {{"masked", false}},
                            {{"masked", true}, {"active_state", "inactive"}});
  auto data = checkpoint_units(current, {mask});
  EXPECT_EQ(data["units"]["a.service"],
            Json({{"masked", false}, {"active_state", "active"}, {"unit_file", "[Service]\n"}}));
  auto steps = plan_steps(
      {unit_change("a.service", {{"unit_file", nullptr}}, {{"unit_file", "[Service]\n"}})});
  ASSERT_EQ(steps.files.size(), 1u);
  steps = plan_steps(
      {unit_change("a.service", {{"unit_file", "[Service]\n"}}, {{"unit_file", nullptr}})});
  ASSERT_EQ(steps.files.size(), 1u);
  EXPECT_FALSE(steps.files[0].content.has_value());
}

TEST(SystemdModel, ValidationPointsAtTheField) {
  Json section = {{"units",
                   {{"a.service", {{"masked", true}, {"enabled", true}}},
                    {"t@.service", {{"active_state", "active"}}},
                    {"b.service", {{"active_state", "reloading"}}}}}};
  auto problems = validate_units(section, "/plugins/systemd");
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0].pointer, "/plugins/systemd/units/a.service/enabled");
  EXPECT_EQ(problems[1].pointer, "/plugins/systemd/units/b.service/active_state");
  EXPECT_NE(problems[2].message.find("t@1.service"), std::string::npos);
}

TEST(SystemdModel, ExactDesiredDeclaresEveryRecordedUnit) {
  auto target = normalise_units({{"a.service", {"loaded", "activating", "start", "disabled"}},
                                 {"t@.service", {"loaded", "inactive", "dead", "static"}}});
  auto exact = exact_units(target);
  EXPECT_EQ(exact["units"]["a.service"],
            Json({{"active_state", "active"}, {"enabled", false}, {"masked", false}}));
  EXPECT_FALSE(exact["units"]["t@.service"].contains("active_state"));
}

}  // namespace
}  // namespace opdbus::systemd
