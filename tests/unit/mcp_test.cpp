// The MCP server core: protocol negotiation, JSON-RPC errors, tools generated from the plugin
// descriptors, and tool failures reported to the agent.
#include <gtest/gtest.h>

#include "mcp/server.h"
#include "plugins/builtin.h"

namespace opdbus::mcp {
namespace {

class McpServerTest : public ::testing::Test {
 protected:
  McpServerTest() {
    context_.config.state_dir = ::testing::TempDir() + "/mcp-state";
    EXPECT_TRUE(register_builtin_plugins(context_.registry, {}));
    server_ = std::make_unique<Server>(context_);
  }
  Json call(const std::string& method, Json params = Json::object()) {
    auto response = server_->handle(
        {{"jsonrpc", "2.0"}, {"id", next_id_++}, {"method", method}, {"params", params}});
    EXPECT_TRUE(response.has_value());
    return response.value_or(Json());
  }
  Context context_;
  std::unique_ptr<Server> server_;
  int next_id_ = 1;
};

TEST_F(McpServerTest, NegotiatesTheProtocolRevision) {
  auto current = call("initialize", {{"protocolVersion", "2025-11-25"},
                                     {"clientInfo", {{"name", "agent"}, {"version", "1"}}}});
  EXPECT_EQ(current["result"]["protocolVersion"], "2025-11-25");
  EXPECT_EQ(current["result"]["serverInfo"]["name"], "op-dbus");
  EXPECT_EQ(context_.interface, "mcp:agent");
  EXPECT_EQ(call("initialize", {{"protocolVersion", "2024-11-05"}})["result"]["protocolVersion"],
            "2024-11-05");
  EXPECT_EQ(call("initialize", {{"protocolVersion", "1999-01-01"}})["result"]["protocolVersion"],
            kLatestProtocol);
}

TEST_F(McpServerTest, ToolsComeFromThePluginDescriptors) {
  call("initialize", {{"protocolVersion", "2025-11-25"}});
  auto tools = call("tools/list")["result"]["tools"];
  std::vector<std::string> names;
  for (const auto& tool : tools) names.push_back(tool["name"]);
  for (const char* expected : {"query_net", "query_systemd", "query_ovs", "diff"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  for (const auto& tool : tools) {
    EXPECT_EQ(tool["inputSchema"]["type"], "object") << tool["name"];
    EXPECT_TRUE(tool.contains("outputSchema")) << tool["name"];
    EXPECT_EQ(tool["annotations"]["readOnlyHint"], true) << tool["name"];
  }
  const auto& query_net = tools[std::find(names.begin(), names.end(), "query_net") - names.begin()];
  EXPECT_EQ(query_net["outputSchema"]["properties"]["state"],
            context_.registry.find("net")->descriptor().schema);
  call("initialize", {{"protocolVersion", "2024-11-05"}});
  EXPECT_FALSE(call("tools/list")["result"]["tools"][0].contains("outputSchema"));
}

TEST_F(McpServerTest, MalformedMessagesGetTheirJsonRpcErrors) {
  EXPECT_EQ((*server_->handle_text("{nope"))["error"]["code"], -32700);
  EXPECT_EQ((*server_->handle(Json::array()))["error"]["code"], -32600);
  EXPECT_EQ((*server_->handle({{"id", 1}, {"method", "ping"}}))["error"]["code"], -32600);
  EXPECT_EQ((*server_->handle(
                {{"jsonrpc", "2.0"}, {"id", Json::object()}, {"method", "ping"}}))["error"]["code"],
            -32600);
  EXPECT_EQ(call("no/such/method")["error"]["code"], -32601);
  EXPECT_EQ(call("tools/call", {{"name", "no_such_tool"}})["error"]["code"], -32602);
  EXPECT_EQ(call("tools/call", {{"name", "diff"}, {"arguments", Json::object()}})["error"]["code"],
            -32602);
  EXPECT_FALSE(server_->handle({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}));
  EXPECT_EQ(call("ping")["result"], Json::object());
}

TEST_F(McpServerTest, AFailingToolTellsTheAgentWhy) {
  call("initialize", {{"protocolVersion", "2025-11-25"}});
  auto result = call("tools/call",
                     {{"name", "diff"},
                      {"arguments",
                       {{"state",
                         {{"version", 1},
                          {"plugins", {{"net", {{"interfaces", {{{"name", 7}}}}}}}}}}}}})["result"];
  EXPECT_EQ(result["isError"], true);
  EXPECT_NE(result["content"][0]["text"].get<std::string>().find("/plugins/net/interfaces/0/name"),
            std::string::npos)
      << result.dump();
}

}  // namespace
}  // namespace opdbus::mcp
