// The lxc plugin's pure model: the diff (creation, live limits vs restarts, state changes,
// convergence of a query fed back), validation pointers, aliases, host names and checkpoints.
#include <gtest/gtest.h>

#include "plugins/lxc/model.h"

namespace opdbus::lxcplugin {
namespace {

Json running_container() {
  return {{"state", "running"},
          {"autostart", false},
          {"rootfs", {{"backing", "dir"}}},
          {"template", "busybox"},
          {"config", {{"lxc.cgroup.memory.limit_in_bytes", "64M"}, {"lxc.tty.max", "5"}}},
          {"network",
           {{{"type", "veth"},
             {"name", "eth0"},
             {"link", "br0"},
             {"ipv4", "10.0.3.5/24"},
             {"hwaddr", "00:16:3e:00:00:01"},
             {"host_name", "lxweb-0"}}}},
          {"init_pid", 4242}};
}

Json current() {
  return {{"containers", {{"web", running_container()}}}};
}

Json desired(Json container) {
  return {{"containers", {{"web", std::move(container)}}}};
}

Result<std::vector<Change>> plan(const Json& want) {
  return plan_containers(current(), desired(want), false);
}

TEST(LxcModel, AQueryFedBackIsANoOp) {
  auto changes = plan_containers(current(), exact_containers(current(), current()), false);
  ASSERT_TRUE(changes) << changes.error().describe();
  EXPECT_TRUE(changes->empty()) << changes->front().to_json().dump();
}

TEST(LxcModel, ACgroupLimitChangesLiveAndOtherKeysRestart) {
  auto live = plan({{"config", {{"limits.memory", "128M"}}}});
  ASSERT_TRUE(live);
  ASSERT_EQ(live->size(), 1U);
  EXPECT_EQ(live->front().after["config"]["lxc.cgroup.memory.limit_in_bytes"], "128M");
  EXPECT_FALSE(live->front().after.contains("restart"));
  auto restart = plan({{"config", {{"lxc.tty.max", 4}}}});
  ASSERT_TRUE(restart);
  ASSERT_EQ(restart->size(), 1U);
  EXPECT_EQ(restart->front().after["config"]["lxc.tty.max"], "4");
  EXPECT_EQ(restart->front().after["restart"], true);
  auto network = plan({{"network", {{{"link", "br0"}, {"ipv4", "10.0.3.6/24"}}}}});
  ASSERT_TRUE(network);
  ASSERT_EQ(network->size(), 1U);
  EXPECT_EQ(network->front().after["restart"], true);
}

TEST(LxcModel, UndeclaredNetworkFieldsAndDefaultsMatch) {
  auto same = plan({{"network", {{{"link", "br0"}, {"ipv4", "10.0.3.5/24"}}}},
                    {"config", {{"lxc.tty.max", "5"}}}});
  ASSERT_TRUE(same);
  EXPECT_TRUE(same->empty()) << same->front().to_json().dump();
  auto more = plan({{"network", {{{"link", "br0"}}, {{"link", "br1"}}}}});
  ASSERT_TRUE(more);
  EXPECT_EQ(more->size(), 1U);
}

TEST(LxcModel, StoppingWithAConfigChangeDoesNotRestartFirst) {
  auto stop = plan({{"state", "stopped"}, {"config", {{"lxc.tty.max", "4"}}}});
  ASSERT_TRUE(stop);
  ASSERT_EQ(stop->size(), 1U);
  EXPECT_EQ(stop->front().after["state"], "stopped");
  EXPECT_FALSE(stop->front().after.contains("restart"));
}

TEST(LxcModel, CreationNeedsATemplateOrAGoldenContainer) {
  auto created = plan_containers(Json::object(), desired({{"template", "busybox"}}), true);
  ASSERT_TRUE(created);
  ASSERT_EQ(created->size(), 1U);
  EXPECT_EQ(created->front().op, ChangeOp::create);
  EXPECT_EQ(created->front().after["state"], "running");
  auto cloned = plan_containers(
      Json::object(),
      desired({{"rootfs", {{"clone_from", "golden"}}}, {"config", {{"cpus", "0"}}}}), true);
  ASSERT_TRUE(cloned);
  EXPECT_EQ(cloned->front().after["config"]["lxc.cgroup2.cpuset.cpus"], "0");
  auto nothing = plan_containers(Json::object(), desired({{"state", "running"}}), true);
  ASSERT_FALSE(nothing);
  EXPECT_NE(nothing.error().message.find("template"), std::string::npos);
}

TEST(LxcModel, AbsentRemovesAndObserveOnlyReports) {
  auto gone = plan({{"state", "absent"}, {"mode", "observe"}});
  ASSERT_TRUE(gone);
  ASSERT_EQ(gone->size(), 1U);
  EXPECT_EQ(gone->front().op, ChangeOp::remove);
  EXPECT_TRUE(gone->front().observe);
  auto none = plan_containers(Json::object(), desired({{"state", "absent"}}), false);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(LxcModel, ValidationPointsAtTheBadField) {
  Json section = {{"containers",
                   {{"bad name", Json::object()},
                    {"web",
                     {{"template", "busybox"},
                      {"rootfs", {{"clone_from", "golden"}}},
                      {"config", {{"lxc.net.0.link", "br0"}, {"memory", "1G"}}},
                      {"network",
                       {{{"link", "br0"}, {"ovs_bridge", "ovs0"}, {"ipv4", "10.0.3.5"}},
                        {{"hwaddr", "zz"}, {"gateway", "fd00::1"}, {"name", "eth0"}}}}}}}}};
  std::set<std::string> pointers;
  for (const auto& problem : validate_containers(section, "/plugins/lxc"))
    pointers.insert(problem.pointer);
  for (const auto* expected :
       {"/plugins/lxc/containers/bad name", "/plugins/lxc/containers/web/template",
        "/plugins/lxc/containers/web/config/lxc.net.0.link",
        "/plugins/lxc/containers/web/config/memory", "/plugins/lxc/containers/web/network/0",
        "/plugins/lxc/containers/web/network/0/ipv4",
        "/plugins/lxc/containers/web/network/1/hwaddr",
        "/plugins/lxc/containers/web/network/1/gateway",
        "/plugins/lxc/containers/web/network/1/name"})
    EXPECT_TRUE(pointers.count(expected)) << expected;
}

TEST(LxcModel, HostInterfaceNamesFitAndStayDistinct) {
  EXPECT_EQ(host_interface_name("web", 0), "lxweb-0");
  auto long_name = host_interface_name("a-very-long-container-name", 3);
  EXPECT_LE(long_name.size(), 15U);
  EXPECT_NE(long_name, host_interface_name("a-very-long-container-nam", 3));
  EXPECT_EQ(long_name, host_interface_name("a-very-long-container-name", 3));
}

TEST(LxcModel, CheckpointsClearAddedKeysAndMarkNewContainersAbsent) {
  Change modify;
  modify.id = "web";
  modify.op = ChangeOp::modify;
  modify.after = {{"config", {{"lxc.environment", "A=1"}}}};
  Change create;
  create.id = "new";
  create.op = ChangeOp::create;
  auto data = checkpoint_containers(current(), {modify, create});
  EXPECT_TRUE(data["containers"]["web"]["config"]["lxc.environment"].is_null());
  EXPECT_FALSE(data["containers"]["web"].contains("init_pid"));
  EXPECT_FALSE(data["containers"]["web"]["network"][0].contains("host_name"));
  EXPECT_EQ(data["containers"]["new"], Json({{"state", "absent"}}));
}

}  // namespace
}  // namespace opdbus::lxcplugin
