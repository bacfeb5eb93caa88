// The MCP Streamable HTTP transport on loopback: sessions (400 without one, 404 unknown, 202 for
// notifications, DELETE), SSE responses with priming and event ids, Host/Origin checks (403),
// bearer tokens (401, one session per token), body limits (413) and malformed JSON (400).
#include <gtest/gtest.h>
#include <httplib.h>

#include "ledger/digest.h"
#include "mcp/http.h"

namespace opdbus::mcp {
namespace {

Catalogue echo_catalogue() {
  Catalogue catalogue;
  catalogue.tools.push_back({.name = "echo",
                             .title = "",
                             .description = "returns its arguments, after a progress report",
                             .input_schema = {{"type", "object"}},
                             .output_schema = Json(),
                             .run = [](Call& call) -> Result<ToolOutput> {
                               call.progress(1, 2, "half");
                               return ToolOutput::of(call.arguments);
                             }});
  return catalogue;
}

const Json kInitialize = {{"jsonrpc", "2.0"},
                          {"id", 0},
                          {"method", "initialize"},
                          {"params", {{"protocolVersion", "2025-11-25"}}}};

class McpHttpTest : public ::testing::Test {
 protected:
  void start(HttpOptions options = {}) {
    options.max_body = 4096;
    auto started = HttpTransport::start(server_, std::move(options));
    ASSERT_TRUE(started) << started.error().describe();
    transport_ = std::move(*started);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", transport_->port());
  }
  httplib::Result post(const Json& body, httplib::Headers headers = {},
                       const std::string& accept = "application/json, text/event-stream") {
    headers.emplace("Accept", accept);
    return client_->Post("/mcp", headers, body.dump(), "application/json");
  }
  std::string initialize(httplib::Headers headers = {}) {
    auto response = post(kInitialize, headers);
    EXPECT_EQ(response->status, 200);
    return response->get_header_value("Mcp-Session-Id");
  }

  Server server_{echo_catalogue(), {}};
  std::unique_ptr<HttpTransport> transport_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(McpHttpTest, SessionsAreRequiredAfterInitialize) {
  start();
  auto session = initialize();
  ASSERT_EQ(session.size(), 32u);
  Json ping = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}};
  EXPECT_EQ(post(ping)->status, 400);
  EXPECT_EQ(post(ping, {{"Mcp-Session-Id", "nope"}})->status, 404);
  auto pong = post(ping, {{"Mcp-Session-Id", session}}, "application/json");
  EXPECT_EQ(pong->status, 200);
  EXPECT_EQ(Json::parse(pong->body)["result"], Json::object());
  EXPECT_EQ(post({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}},
                 {{"Mcp-Session-Id", session}})
                ->status,
            202);
  EXPECT_EQ(
      post(ping, {{"Mcp-Session-Id", session}, {"MCP-Protocol-Version", "1999-01-01"}})->status,
      400);
  EXPECT_EQ(client_->Delete("/mcp", {{"Mcp-Session-Id", session}})->status, 204);
  EXPECT_EQ(post(ping, {{"Mcp-Session-Id", session}})->status, 404);
}

TEST_F(McpHttpTest, RequestsAreAnsweredAsEventStreamsWithIds) {
  start();
  auto session = initialize();
  auto response =
      post({{"jsonrpc", "2.0"},
            {"id", 5},
            {"method", "tools/call"},
            {"params",
             {{"name", "echo"}, {"arguments", {{"x", 1}}}, {"_meta", {{"progressToken", "p"}}}}}},
           {{"Mcp-Session-Id", session}});
  ASSERT_EQ(response->status, 200);
  EXPECT_EQ(response->get_header_value("Content-Type"), "text/event-stream");
  const auto& body = response->body;
  EXPECT_EQ(body.rfind("id: s1:0\nretry: 1000\ndata: \n\n", 0), 0u) << body;
  auto progress =
      body.find("id: s1:1\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"");
  auto result = body.find("id: s1:2\ndata: {\"id\":5");
  EXPECT_NE(progress, std::string::npos) << body;
  EXPECT_NE(result, std::string::npos) << body;
  EXPECT_LT(progress, result);
}

TEST_F(McpHttpTest, ForeignHostsAndOriginsAreForbidden) {
  start();
  EXPECT_EQ(post(kInitialize, {{"Host", "evil.example.com"}})->status, 403);
  EXPECT_EQ(post(kInitialize, {{"Origin", "http://evil.example.com"}})->status, 403);
  EXPECT_EQ(post(kInitialize, {{"Origin", "http://localhost:3000"}})->status, 200);
  EXPECT_EQ(client_->Get("/mcp", {{"Host", "evil.example.com"}})->status, 403);
}

TEST_F(McpHttpTest, TokensAreRequiredOnceConfiguredAndSessionsStayWithTheirToken) {
  HttpOptions options;
  for (const char* name : {"one", "two"})
    options.config.tokens.push_back({name,
                                     ledger::to_hex(ledger::sha256(std::string("token-") + name)),
                                     Principal{name, false, {}}});
  start(options);
  EXPECT_EQ(post(kInitialize)->status, 401);
  EXPECT_EQ(post(kInitialize, {{"Authorization", "Bearer wrong"}})->status, 401);
  auto session = initialize({{"Authorization", "Bearer token-one"}});
  Json ping = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}};
  EXPECT_EQ(
      post(ping, {{"Mcp-Session-Id", session}, {"Authorization", "Bearer token-one"}})->status,
      200);
  EXPECT_EQ(
      post(ping, {{"Mcp-Session-Id", session}, {"Authorization", "Bearer token-two"}})->status,
      403);
}

TEST_F(McpHttpTest, OversizedAndMalformedBodiesAreRefused) {
  start();
  EXPECT_EQ(client_->Post("/mcp", std::string(8192, ' '), "application/json")->status, 413);
  auto broken = client_->Post("/mcp", "{broken", "application/json");
  EXPECT_EQ(broken->status, 400);
  EXPECT_EQ(Json::parse(broken->body)["error"]["code"], -32700);
  EXPECT_EQ(post(Json::array({kInitialize}))->status, 400);
}

TEST(McpHttpAddress, ListenAddressesAreParsedAndNonLoopbackNeedsTokens) {
  using Address = std::pair<std::string, int>;
  EXPECT_EQ(*parse_listen_address("127.0.0.1:8080"), Address("127.0.0.1", 8080));
  EXPECT_EQ(*parse_listen_address("[::1]:0"), Address("::1", 0));
  EXPECT_FALSE(parse_listen_address("localhost"));
  EXPECT_FALSE(parse_listen_address("127.0.0.1:99999"));
  Server server(Catalogue{}, {});
  HttpOptions options;
  options.address = "0.0.0.0";
  auto open = HttpTransport::start(server, options);
  ASSERT_FALSE(open);
  EXPECT_NE(open.error().message.find("tokens"), std::string::npos);
}

}  // namespace
}  // namespace opdbus::mcp
