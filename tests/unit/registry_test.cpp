// Unit tests for the plugin Registry: registration, lookup, unique names and apply order.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "plugin/registry.h"

namespace opdbus {
namespace {

// A plugin that only has a name and dependencies; every operation is a no-op.
class FakePlugin final : public Plugin {
 public:
  FakePlugin(std::string name, std::vector<std::string> apply_after) {
    descriptor_.name = std::move(name);
    descriptor_.apply_after = std::move(apply_after);
  }
  const PluginDescriptor& descriptor() const override { return descriptor_; }
  Availability probe() override { return {true, "fake"}; }
  std::vector<Problem> validate(const Json&, const std::string&) const override { return {}; }
  Result<Json> query() override { return Json::object(); }
  Result<std::vector<Change>> diff(const Json&, const Json&) override {
    return std::vector<Change>{};
  }
  Result<ApplyReport> apply(const std::vector<Change>&) override { return ApplyReport{}; }
  Result<Snapshot> checkpoint_of(const Json&, const std::vector<Change>&) override {
    return Snapshot{descriptor_.name, {}};
  }
  Result<ApplyReport> restore(const Snapshot&) override { return ApplyReport{}; }
  Result<std::unique_ptr<Watch>> watch(WatchCallback) override {
    return fail(ErrorCode::unavailable, "fake plugins cannot be watched");
  }
  Json exact_desired(const Json& target, const Json&) const override { return target; }

 private:
  PluginDescriptor descriptor_;
};

std::unique_ptr<Plugin> fake(std::string name, std::vector<std::string> apply_after = {}) {
  return std::make_unique<FakePlugin>(std::move(name), std::move(apply_after));
}

std::vector<std::string> order_of(const Registry& registry) {
  std::vector<std::string> out;
  for (const auto* plugin : registry.ordered()) out.push_back(plugin->descriptor().name);
  return out;
}

Registry registry_of(std::vector<std::unique_ptr<Plugin>> plugins) {
  Registry registry;
  for (auto& plugin : plugins) EXPECT_TRUE(registry.add(std::move(plugin)).has_value());
  return registry;
}

TEST(RegistryTest, AddFindAndNames) {
  Registry registry;
  EXPECT_TRUE(registry.names().empty());
  EXPECT_TRUE(registry.ordered().empty());
  auto net = fake("net");
  const Plugin* net_address = net.get();
  ASSERT_TRUE(registry.add(std::move(net)).has_value());
  ASSERT_TRUE(registry.add(fake("lxc")).has_value());
  EXPECT_EQ(registry.find("net"), net_address);
  ASSERT_NE(registry.find("lxc"), nullptr);
  EXPECT_EQ(registry.find("lxc")->descriptor().name, "lxc");
  EXPECT_EQ(registry.find("ovs"), nullptr);
  EXPECT_EQ(registry.names(), (std::vector<std::string>{"lxc", "net"}));
}

TEST(RegistryTest, DuplicateNameIsRefused) {
  Registry registry;
  ASSERT_TRUE(registry.add(fake("net")).has_value());
  const Plugin* first = registry.find("net");
  auto status = registry.add(fake("net", {"ovs"}));
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code, ErrorCode::internal);
  EXPECT_EQ(status.error().message, "plugin 'net' registered twice");
  EXPECT_EQ(registry.names(), std::vector<std::string>{"net"});
  EXPECT_EQ(registry.find("net"), first);
}

TEST(RegistryTest, OrderedHonoursApplyAfter) {
  std::vector<std::unique_ptr<Plugin>> plugins;
  plugins.push_back(fake("lxc", {"ovs", "net"}));
  plugins.push_back(fake("ovs", {"net"}));
  plugins.push_back(fake("systemd"));
  plugins.push_back(fake("net"));
  Registry registry = registry_of(std::move(plugins));
  EXPECT_EQ(order_of(registry), (std::vector<std::string>{"systemd", "net", "ovs", "lxc"}));
}

TEST(RegistryTest, UnregisteredDependencyIsIgnored) {
  std::vector<std::unique_ptr<Plugin>> plugins;
  plugins.push_back(fake("ovs", {"net"}));
  plugins.push_back(fake("lxc"));
  Registry registry = registry_of(std::move(plugins));
  EXPECT_EQ(order_of(registry), (std::vector<std::string>{"ovs", "lxc"}));
}

TEST(RegistryTest, CycleKeepsRegistrationOrderForTheRest) {
  std::vector<std::unique_ptr<Plugin>> plugins;
  plugins.push_back(fake("a", {"b"}));
  plugins.push_back(fake("b", {"a"}));
  plugins.push_back(fake("c"));
  plugins.push_back(fake("d", {"a"}));
  Registry registry = registry_of(std::move(plugins));
  EXPECT_EQ(order_of(registry), (std::vector<std::string>{"c", "a", "b", "d"}));
}

}  // namespace
}  // namespace opdbus
