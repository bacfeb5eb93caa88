// The apply tool end to end through the real engine and ledger, on in-memory plugins (a key-value
// store each): progress notifications per plugin and for verification, and a cancellation that
// arrives while the first plugin applies stops the apply before the second plugin and rolls the
// first back, recorded in the ledger.
#include <gtest/gtest.h>

#include <filesystem>

#include "ledger/verify.h"
#include "mcp/host.h"
#include "mcp/server.h"
#include "plugin/change.h"

namespace opdbus::mcp {
namespace {

// {"values": {KEY: VALUE}}: every declared key is set to its value.
class MemoryPlugin final : public Plugin {
 public:
  MemoryPlugin(std::string name, std::vector<std::string> apply_after) {
    descriptor_.name = std::move(name);
    descriptor_.description = "an in-memory key-value store";
    descriptor_.schema = {{"type", "object"},
                          {"properties", {{"values", {{"type", "object"}}}}},
                          {"additionalProperties", false}};
    descriptor_.apply_after = std::move(apply_after);
  }
  Json values = Json::object();
  std::function<void()> during_apply;

  const PluginDescriptor& descriptor() const override { return descriptor_; }
  Availability probe() override { return {true, "memory"}; }
  std::vector<Problem> validate(const Json&, const std::string&) const override { return {}; }
  Result<Json> query() override { return Json{{"values", values}}; }
  Result<std::vector<Change>> diff(const Json& current, const Json& desired) override {
    std::vector<Change> changes;
    auto wanted = desired.value("values", Json::object());
    auto present = current.value("values", Json::object());
    for (const auto& [key, value] : wanted.items())
      if (present.value(key, Json()) != value)
        changes.push_back(make_change(descriptor_.name, "value", key,
                                      present.contains(key) ? ChangeOp::modify : ChangeOp::create,
                                      present.value(key, Json()), value, false, "/values/" + key));
    return changes;
  }
  Result<ApplyReport> apply(const std::vector<Change>& changes) override {
    for (const auto& change : changes) values[change.id] = change.after;
    if (during_apply) during_apply();
    return ApplyReport{changes.size()};
  }
  Result<Snapshot> checkpoint_of(const Json& current, const std::vector<Change>&) override {
    return Snapshot{descriptor_.name, current};
  }
  Result<ApplyReport> restore(const Snapshot& snapshot) override {
    values = snapshot.data.value("values", Json::object());
    return ApplyReport{1};
  }
  Result<std::unique_ptr<Watch>> watch(WatchCallback) override {
    return fail(ErrorCode::unavailable, "memory plugins have no watch");
  }
  Json exact_desired(const Json& target, const Json&) const override { return target; }

 private:
  PluginDescriptor descriptor_;
};

class McpApplyTest : public ::testing::Test {
 protected:
  McpApplyTest() {
    state_dir_ = ::testing::TempDir() + "/mcp-apply-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(state_dir_);
    context_.config.state_dir = state_dir_;
    auto first = std::make_unique<MemoryPlugin>("alpha", std::vector<std::string>{});
    auto second = std::make_unique<MemoryPlugin>("beta", std::vector<std::string>{"alpha"});
    alpha_ = first.get();
    beta_ = second.get();
    EXPECT_TRUE(context_.registry.add(std::move(first)));
    EXPECT_TRUE(context_.registry.add(std::move(second)));
    host_ = std::make_unique<Host>(context_, HostOptions{});
    server_ = std::make_unique<Server>(host_->catalogue(), ServerOptions{});
    session_ = server_->open_session({});
    server_->handle(
        *session_,
        {{"jsonrpc", "2.0"},
         {"id", 0},
         {"method", "initialize"},
         {"params", {{"protocolVersion", "2025-11-25"}, {"clientInfo", {{"name", "t"}}}}}},
        outlet_);
  }
  ~McpApplyTest() override { std::filesystem::remove_all(state_dir_); }

  Json apply(int id) {
    Json state = {
        {"version", 1},
        {"plugins", {{"alpha", {{"values", {{"a", 1}}}}}, {"beta", {{"values", {{"b", 2}}}}}}}};
    return server_
        ->handle(*session_,
                 {{"jsonrpc", "2.0"},
                  {"id", id},
                  {"method", "tools/call"},
                  {"params",
                   {{"name", "apply"},
                    {"arguments", {{"state", state}, {"confirm", true}}},
                    {"_meta", {{"progressToken", "p"}}}}}},
                 outlet_)
        .value_or(Json())["result"];
  }

  std::filesystem::path state_dir_;
  Context context_;
  MemoryPlugin* alpha_;
  MemoryPlugin* beta_;
  std::unique_ptr<Host> host_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<Session> session_;
  std::vector<Json> sent_;
  Outlet outlet_{[this](const Json& message) { sent_.push_back(message); }, {}};
};

TEST_F(McpApplyTest, ProgressIsReportedPerPluginAndForVerification) {
  auto result = apply(1);
  ASSERT_EQ(result["isError"], false) << result.dump();
  EXPECT_EQ(result["structuredContent"]["outcome"], "applied");
  std::vector<double> progress;
  for (const auto& message : sent_)
    if (message.value("method", "") == "notifications/progress") {
      EXPECT_EQ(message["params"]["progressToken"], "p");
      EXPECT_EQ(message["params"]["total"], 3);
      progress.push_back(message["params"]["progress"]);
    }
  EXPECT_EQ(progress, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(alpha_->values, Json({{"a", 1}}));
  EXPECT_EQ(beta_->values, Json({{"b", 2}}));
}

TEST_F(McpApplyTest, ACancellationStopsTheApplyAndRollsBackWhatWasDone) {
  alpha_->values = {{"a", 0}};
  alpha_->during_apply = [this] {
    server_->handle(
        *session_,
        {{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", 7}}}},
        outlet_);
  };
  auto result = apply(7);
  EXPECT_EQ(result["isError"], true);
  EXPECT_EQ(result["structuredContent"]["outcome"], "rolled_back") << result.dump();
  EXPECT_NE(result["structuredContent"]["error"].get<std::string>().find("cancelled"),
            std::string::npos);
  EXPECT_EQ(alpha_->values, Json({{"a", 0}}));
  EXPECT_EQ(beta_->values, Json::object());
  auto data = ledger::load_local_ledger(state_dir_);
  ASSERT_TRUE(data);
  auto blocks = ledger::newest_blocks(*data, 10, [](const Json&) { return true; });
  ASSERT_TRUE(blocks && !blocks->empty());
  EXPECT_EQ((*blocks)[0]["result"]["outcome"], "rolled_back");
  EXPECT_EQ((*blocks)[0]["actor"]["interface"], "mcp:t");
}

}  // namespace
}  // namespace opdbus::mcp
