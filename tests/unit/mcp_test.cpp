// The MCP server core and op-dbus's catalogue: protocol negotiation, JSON-RPC errors, tools
// generated from the plugin descriptors, confirmation of write tools (argument or elicitation),
// policy refusals recorded in the ledger, compact mode, resources with subscriptions, prompts,
// completion, cancellation, and the MCP config file.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "engine/schema_check.h"
#include "ledger/verify.h"
#include "mcp/config.h"
#include "mcp/host.h"
#include "mcp/server.h"
#include "plugins/builtin.h"

namespace opdbus::mcp {
namespace {

class McpServerTest : public ::testing::Test {
 protected:
  McpServerTest() {
    state_dir_ = ::testing::TempDir() + "/mcp-state-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(state_dir_);
    context_.config.state_dir = state_dir_;
    EXPECT_TRUE(register_builtin_plugins(context_.registry, {}));
    host_ = std::make_unique<Host>(context_, HostOptions{});
    start({});
  }
  ~McpServerTest() override { std::filesystem::remove_all(state_dir_); }

  void start(ServerOptions options, Principal principal = {}) {
    server_ = std::make_unique<Server>(host_->catalogue(), options);
    session_ = server_->open_session(principal);
    session_->push = [this](const Json& message) { pushed_.push_back(message); };
  }
  Json call(const std::string& method, Json params = Json::object()) {
    auto response = server_->handle(
        *session_, {{"jsonrpc", "2.0"}, {"id", next_id_++}, {"method", method}, {"params", params}},
        outlet_);
    EXPECT_TRUE(response.has_value());
    return response.value_or(Json());
  }
  Json tool(const std::string& name, Json arguments = Json::object()) {
    return call("tools/call", {{"name", name}, {"arguments", arguments}})["result"];
  }
  std::vector<Json> blocks() {
    auto data = ledger::load_local_ledger(state_dir_);
    if (!data) return {};
    return ledger::newest_blocks(*data, 1000, [](const Json&) { return true; })
        .value_or(std::vector<Json>{});
  }

  std::filesystem::path state_dir_;
  Context context_;
  std::unique_ptr<Host> host_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<Session> session_;
  std::vector<Json> sent_, pushed_;
  Outlet outlet_{[this](const Json& message) { sent_.push_back(message); }, {}};
  int next_id_ = 1;
};

TEST_F(McpServerTest, NegotiatesTheProtocolRevision) {
  auto current = call("initialize", {{"protocolVersion", "2025-11-25"},
                                     {"clientInfo", {{"name", "agent"}, {"version", "1"}}}});
  EXPECT_EQ(current["result"]["protocolVersion"], "2025-11-25");
  EXPECT_EQ(current["result"]["serverInfo"]["name"], "op-dbus");
  EXPECT_TRUE(current["result"]["capabilities"]["resources"]["subscribe"]);
  EXPECT_EQ(session_->client_name(), "agent");
  EXPECT_EQ(call("initialize", {{"protocolVersion", "2024-11-05"}})["result"]["protocolVersion"],
            "2024-11-05");
  EXPECT_EQ(call("initialize", {{"protocolVersion", "1999-01-01"}})["result"]["protocolVersion"],
            kLatestProtocol);
}

TEST_F(McpServerTest, ToolsComeFromThePluginDescriptorsWithHonestAnnotations) {
  call("initialize", {{"protocolVersion", "2025-11-25"}});
  std::map<std::string, Json> tools;
  auto listed = call("tools/list")["result"]["tools"];
  for (const auto& each : listed) tools[each["name"]] = each;
  for (const char* expected :
       {"query_net", "query_systemd", "query_ovs", "diff", "apply", "rollback", "commit",
        "ledger_log", "ledger_show", "ledger_verify", "ledger_proof", "snapshot_list",
        "snapshot_create", "retention_show", "retention_set", "discover", "topology",
        "anomaly_scan", "anomaly_history"})
    EXPECT_TRUE(tools.contains(expected)) << expected;
  for (const auto& [name, each] : tools) {
    EXPECT_EQ(each["inputSchema"]["type"], "object") << name;
    EXPECT_FALSE(each["description"].get<std::string>().empty()) << name;
  }
  // The plugins' own schemas, with their definitions hoisted so every $ref resolves.
  Json net = {{"interfaces", {{{"name", "br0"}, {"type", "bridge"}, {"mtu", 9000}}}}};
  Json bad_net = {{"interfaces", {{{"name", "br0"}, {"mtu", 1}}}}};
  EXPECT_TRUE(
      check_against_schema(tools["query_net"]["outputSchema"], {{"state", net}}, "").empty());
  EXPECT_FALSE(
      check_against_schema(tools["query_net"]["outputSchema"], {{"state", bad_net}}, "").empty());
  Json document = {{"version", 1}, {"plugins", {{"net", net}}}};
  EXPECT_TRUE(
      check_against_schema(tools["apply"]["inputSchema"], {{"state", document}}, "").empty());
  document["plugins"]["net"] = bad_net;
  auto problems = check_against_schema(tools["apply"]["inputSchema"], {{"state", document}}, "");
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems[0].pointer, "/state/plugins/net/interfaces/0/mtu");
  EXPECT_EQ(tools["query_net"]["annotations"]["readOnlyHint"], true);
  EXPECT_EQ(tools["apply"]["annotations"]["readOnlyHint"], false);
  EXPECT_EQ(tools["apply"]["annotations"]["destructiveHint"], true);
  EXPECT_EQ(tools["commit"]["annotations"]["destructiveHint"], false);
  call("initialize", {{"protocolVersion", "2024-11-05"}});
  EXPECT_FALSE(call("tools/list")["result"]["tools"][0].contains("outputSchema"));
}

TEST_F(McpServerTest, MalformedMessagesGetTheirJsonRpcErrors) {
  EXPECT_EQ((*server_->handle_text(*session_, "{nope", outlet_))["error"]["code"], -32700);
  EXPECT_EQ((*server_->handle(*session_, Json::array(), outlet_))["error"]["code"], -32600);
  EXPECT_EQ(
      (*server_->handle(*session_, {{"id", 1}, {"method", "ping"}}, outlet_))["error"]["code"],
      -32600);
  EXPECT_EQ(
      (*server_->handle(*session_, {{"jsonrpc", "2.0"}, {"id", Json::object()}, {"method", "ping"}},
                        outlet_))["error"]["code"],
      -32600);
  EXPECT_EQ(call("no/such/method")["error"]["code"], -32601);
  EXPECT_EQ(call("tools/call", {{"name", "no_such_tool"}})["error"]["code"], -32602);
  EXPECT_EQ(call("prompts/get", {{"name", "explain_block"}})["error"]["code"], -32602);
  EXPECT_FALSE(server_->handle(
      *session_, {{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}, outlet_));
  EXPECT_EQ(call("ping")["result"], Json::object());
}

TEST_F(McpServerTest, BadArgumentsAndFailuresAreToolErrorsTheAgentCanRead) {
  call("initialize", {{"protocolVersion", "2025-11-25"}});
  auto missing = tool("diff");
  EXPECT_EQ(missing["isError"], true);
  EXPECT_NE(missing["content"][0]["text"].get<std::string>().find("state"), std::string::npos);
  auto wrong_type = tool("retention_set", {{"hourly", "ten"}});
  EXPECT_EQ(wrong_type["isError"], true);
  EXPECT_NE(wrong_type["content"][0]["text"].get<std::string>().find("/hourly"), std::string::npos);
  auto bad_state = tool(
      "diff",
      {{"state", {{"version", 1}, {"plugins", {{"net", {{"interfaces", {{{"name", 7}}}}}}}}}}});
  EXPECT_EQ(bad_state["isError"], true);
  EXPECT_NE(
      bad_state["content"][0]["text"].get<std::string>().find("/plugins/net/interfaces/0/name"),
      std::string::npos)
      << bad_state.dump();
}

TEST_F(McpServerTest, AWriteToolNeedsConfirmationAndIsRecordedWithTheClient) {
  call("initialize", {{"protocolVersion", "2025-11-25"}, {"clientInfo", {{"name", "agent"}}}});
  auto unconfirmed = tool("retention_set", {{"hourly", 10}});
  EXPECT_EQ(unconfirmed["isError"], true);
  EXPECT_EQ(unconfirmed["structuredContent"]["outcome"], "needs_confirmation");
  EXPECT_TRUE(blocks().empty());
  auto confirmed = tool("retention_set", {{"hourly", 10}, {"confirm", true}});
  EXPECT_EQ(confirmed["isError"], false) << confirmed.dump();
  EXPECT_EQ(confirmed["structuredContent"]["after"]["hourly"], 10);
  auto recorded = blocks();
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0]["action"], "retention.set");
  EXPECT_EQ(recorded[0]["actor"]["interface"], "mcp:agent");
  EXPECT_EQ(tool("retention_show")["structuredContent"]["hourly"], 10);
}

TEST_F(McpServerTest, AClientThatSupportsElicitationIsAskedInstead) {
  call("initialize", {{"protocolVersion", "2025-11-25"},
                      {"capabilities", {{"elicitation", Json::object()}}},
                      {"clientInfo", {{"name", "asker"}}}});
  bool answer_yes = false;
  outlet_.send = [&](const Json& message) {
    sent_.push_back(message);
    if (message.value("method", "") == "elicitation/create")
      session_->deliver_answer(
          message["id"],
          {{"jsonrpc", "2.0"},
           {"id", message["id"]},
           {"result",
            {{"action", answer_yes ? "accept" : "decline"}, {"content", {{"confirm", true}}}}}});
  };
  EXPECT_EQ(tool("retention_set", {{"daily", 3}})["isError"], true);
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0]["method"], "elicitation/create");
  EXPECT_EQ(sent_[0]["params"]["requestedSchema"]["properties"]["confirm"]["type"], "boolean");
  answer_yes = true;
  EXPECT_EQ(tool("retention_set", {{"daily", 3}})["isError"], false);
  EXPECT_EQ(blocks().size(), 1u);
}

TEST_F(McpServerTest, AReadOnlyPrincipalIsRefusedWritesAndTheRefusalIsRecorded) {
  start({}, Principal{"viewer", false, {}});
  call("initialize", {{"protocolVersion", "2025-11-25"}, {"clientInfo", {{"name", "bot"}}}});
  auto refused = tool("retention_set", {{"hourly", 1}, {"confirm", true}});
  EXPECT_EQ(refused["isError"], true);
  EXPECT_NE(refused["content"][0]["text"].get<std::string>().find("viewer"), std::string::npos);
  EXPECT_EQ(tool("retention_show")["isError"], false);
  auto recorded = blocks();
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0]["action"], "mcp.retention_set.denied");
  EXPECT_EQ(recorded[0]["actor"]["user"], "token:viewer");
  start({}, Principal{"ledger-only", true, {"ledger_*"}});
  EXPECT_EQ(tool("ledger_verify")["isError"], false);
  EXPECT_EQ(tool("retention_show")["isError"], true);
}

TEST_F(McpServerTest, CompactModeOffersFourMetaToolsInFrontOfTheRest) {
  start({.compact = true});
  call("initialize", {{"protocolVersion", "2025-11-25"}});
  std::vector<std::string> names;
  auto listed = call("tools/list")["result"]["tools"];
  for (const auto& each : listed) names.push_back(each["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"list_tools", "search_tools", "get_tool_schema",
                                             "execute_tool"}));
  auto found = tool("search_tools", {{"query", "retention policy"}})["structuredContent"]["tools"];
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found[0]["name"].get<std::string>().rfind("retention_", 0), 0u) << found.dump();
  auto schema = tool("get_tool_schema", {{"name", "ledger_show"}})["structuredContent"];
  EXPECT_EQ(schema["inputSchema"]["required"], Json::array({"height"}));
  auto executed = tool("execute_tool", {{"name", "retention_show"}});
  EXPECT_EQ(executed["structuredContent"]["weekly"], 5);
  EXPECT_EQ(tool("execute_tool", {{"name", "retention_set"},
                                  {"arguments", {{"hourly", 2}}}})["structuredContent"]["outcome"],
            "needs_confirmation");
}

TEST_F(McpServerTest, ResourcesServeStateAndLedgerAndNotifySubscribers) {
  call("initialize", {{"protocolVersion", "2025-11-25"}});
  std::vector<std::string> uris;
  auto listed = call("resources/list")["result"]["resources"];
  for (const auto& each : listed) uris.push_back(each["uri"]);
  EXPECT_NE(std::find(uris.begin(), uris.end(), "opdbus://state/net"), uris.end());
  EXPECT_NE(std::find(uris.begin(), uris.end(), "opdbus://ledger/checkpoint"), uris.end());
  EXPECT_EQ(call("resources/templates/list")["result"]["resourceTemplates"][0]["uriTemplate"],
            "opdbus://ledger/{height}");
  EXPECT_EQ(call("resources/read", {{"uri", "opdbus://ledger/0"}})["error"]["code"], -32602);
  EXPECT_EQ(call("resources/subscribe", {{"uri", "opdbus://ledger/checkpoint"}})["result"],
            Json::object());
  server_->poll_changes();
  EXPECT_TRUE(pushed_.empty());
  tool("retention_set", {{"hourly", 9}, {"confirm", true}});
  server_->poll_changes();
  ASSERT_EQ(pushed_.size(), 1u);
  EXPECT_EQ(pushed_[0]["method"], "notifications/resources/updated");
  EXPECT_EQ(pushed_[0]["params"]["uri"], "opdbus://ledger/checkpoint");
  auto block = call("resources/read", {{"uri", "opdbus://ledger/0"}})["result"]["contents"][0];
  EXPECT_EQ(Json::parse(block["text"].get<std::string>())["action"], "retention.set");
  call("resources/unsubscribe", {{"uri", "opdbus://ledger/checkpoint"}});
  tool("retention_set", {{"hourly", 8}, {"confirm", true}});
  server_->poll_changes();
  EXPECT_EQ(pushed_.size(), 1u);
}

TEST_F(McpServerTest, TopologyAndAnomalyToolsAnswer) {
  call("initialize", {{"protocolVersion", "2025-11-25"}});
  auto topology = tool("topology", {{"policy", "off"}});
  ASSERT_EQ(topology["isError"], false) << topology.dump();
  EXPECT_FALSE(topology["structuredContent"]["numa_nodes"].empty());
  EXPECT_EQ(topology["structuredContent"]["placement"]["active"], false);
  EXPECT_EQ(tool("topology", {{"policy", "sideways"}})["isError"], true);
  EXPECT_EQ(tool("anomaly_history")["structuredContent"]["blocks"], Json::array());
}

TEST_F(McpServerTest, PromptsTakeTheirArgumentsAndComplete) {
  call("initialize", {{"protocolVersion", "2025-11-25"}});
  auto prompts = call("prompts/list")["result"]["prompts"];
  ASSERT_EQ(prompts.size(), 3u);
  auto explained =
      call("prompts/get", {{"name", "explain_block"}, {"arguments", {{"height", "4"}}}});
  EXPECT_NE(explained["result"]["messages"][0]["content"]["text"].get<std::string>().find(
                "ledger block 4"),
            std::string::npos);
  auto completion =
      call("completion/complete", {{"ref", {{"type", "ref/prompt"}, {"name", "review_drift"}}},
                                   {"argument", {{"name", "plugin"}, {"value", "sys"}}}});
  EXPECT_EQ(completion["result"]["completion"]["values"], Json::array({"systemd"}));
}

TEST(McpServerCore, CancellationReachesTheRunningTool) {
  Catalogue catalogue;
  catalogue.tools.push_back({.name = "wait",
                             .title = "",
                             .description = "waits until cancelled",
                             .input_schema = {{"type", "object"}},
                             .output_schema = Json(),
                             .run = [](Call& call) -> Result<ToolOutput> {
                               for (int i = 0; i < 500 && !call.cancelled(); ++i)
                                 std::this_thread::sleep_for(std::chrono::milliseconds(10));
                               return ToolOutput::of({{"cancelled", call.cancelled()}});
                             }});
  Server server(std::move(catalogue), {});
  auto session = server.open_session({});
  std::optional<Json> response;
  std::thread running([&] {
    response = server.handle(
        *session,
        {{"jsonrpc", "2.0"}, {"id", 7}, {"method", "tools/call"}, {"params", {{"name", "wait"}}}},
        {});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  server.handle(*session,
                {{"jsonrpc", "2.0"},
                 {"method", "notifications/cancelled"},
                 {"params", {{"requestId", 7}, {"reason", "changed my mind"}}}},
                {});
  running.join();
  ASSERT_TRUE(response);
  EXPECT_EQ((*response)["result"]["structuredContent"]["cancelled"], true);
}

TEST(McpConfig, TokensAreHashedAndUnknownKeysRefused) {
  // SHA-256 of "secret-token".
  auto config = parse_mcp_config(Json::parse(R"({
    "tokens": {"ops": {"token_sha256": "930bbdc51b6aed5c2a5678fd6e28dee7a05e8a4b643cfc0b4427c3efb86c0d94",
                       "access": "write", "tools": ["apply", "query_*"]}},
    "allowed_origins": ["https://ops.example"],
    "dbus_methods": [{"service": "org.example.Test1"}]})"));
  ASSERT_TRUE(config) << config.error().describe();
  EXPECT_EQ(config->tokens[0].principal.patterns, (std::vector<std::string>{"apply", "query_*"}));
  EXPECT_FALSE(config->principal_for("wrong"));
  auto principal = config->principal_for("secret-token");
  ASSERT_TRUE(principal);
  EXPECT_EQ(principal->name, "ops");
  EXPECT_TRUE(principal->may_write);
  EXPECT_EQ(config->host.dbus_methods[0].service, "org.example.Test1");
  auto typo = parse_mcp_config(Json::parse(R"({"tokens": {"ops": {"acess": "write"}}})"));
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().describe().find("acess"), std::string::npos);
  EXPECT_FALSE(parse_mcp_config(Json::parse(R"({"tokens": {"ops": {"token_sha256": "abc"}}})")));
  EXPECT_FALSE(parse_mcp_config(Json::parse(
      R"({"tokens": {"ops": {"token_sha256": "930bbdc51b6aed5c2a5678fd6e28dee7a05e8a4b643cfc0b4427c3efb86c0d94", "access": "root"}}})")));
}

}  // namespace
}  // namespace opdbus::mcp
