// MCP Streamable HTTP (2025-11-25) on one endpoint, /mcp, with cpp-httplib: POST carries one
// JSON-RPC message (a request is answered as an SSE stream when the client accepts one, else as
// JSON), GET opens the session's stream for messages the server sends unprompted, DELETE ends a
// session. The web UI is served from `web_root` at /.
// Security: Host and Origin are checked before anything else (DNS rebinding: 403); a bearer
// token is required when tokens are configured or the address is not loopback (401), and a
// session stays with the token that opened it; bodies over the limit get 413; bad JSON gets the
// JSON-RPC parse error with 400.
// Invariants: every SSE stream starts with a priming event (id, retry, empty data) and every event
// has an id "STREAM:SEQ", so a client that lost a stream resumes it with GET + Last-Event-ID; a
// message goes to exactly one stream; stopping waits for every request still running.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "base/result.h"
#include "mcp/config.h"
#include "mcp/server.h"

namespace opdbus::mcp {

struct HttpOptions {
  std::string address = "127.0.0.1";
  int port = 0;  // 0: any free port
  McpConfig config;
  std::filesystem::path web_root;  // empty: no web UI
  size_t max_body = 4 << 20;
  std::chrono::minutes session_idle_limit{60};
};

class HttpTransport {
 public:
  // Binds and starts serving on background threads.
  static Result<std::unique_ptr<HttpTransport>> start(Server& server, HttpOptions options);
  ~HttpTransport();
  int port() const;
  std::string url() const;
  // Ends every stream and waits for the requests still running.
  void stop();

  struct State;

 private:
  explicit HttpTransport(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// "ADDRESS:PORT" ("[::1]:8080" for IPv6) split, or an invalid_input error.
Result<std::pair<std::string, int>> parse_listen_address(const std::string& text);
bool is_loopback_address(const std::string& address);

}  // namespace opdbus::mcp
