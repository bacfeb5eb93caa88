// MCP over stdio; see stdio.h.
#include "mcp/stdio.h"

#include <condition_variable>
#include <deque>
#include <string>
#include <thread>

namespace opdbus::mcp {
namespace {

constexpr size_t kMaxMessage = 4 << 20;
constexpr auto kPollInterval = std::chrono::milliseconds(250);

class StdioConnection {
 public:
  StdioConnection(Server& server, std::ostream& out)
      : server_(server), out_(out), session_(server.open_session(Principal{})) {
    session_->push = [this](const Json& message) { write(message); };
  }
  ~StdioConnection() { server_.close_session(session_->id()); }

  void write(const Json& message) {
    std::lock_guard lock(out_mutex_);
    out_ << message.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n' << std::flush;
  }

  // Answers and cancellations are handled at once; requests queue for the worker.
  void receive(const std::string& line) {
    if (line.size() > kMaxMessage) {
      write(error_response(nullptr, kParseError, "message over 4 MiB"));
      return;
    }
    auto message = Json::parse(line, nullptr, false);
    bool immediate = message.is_object() && (!message.contains("method") ||
                                             message["method"] == "notifications/cancelled");
    if (immediate) {
      (void)server_.handle(*session_, message, outlet());
      return;
    }
    std::lock_guard lock(queue_mutex_);
    queue_.push_back(line);
    queued_.notify_one();
  }

  void serve_queue(std::stop_token stop) {
    while (true) {
      std::unique_lock lock(queue_mutex_);
      queued_.wait(lock, [&] { return !queue_.empty() || stop.stop_requested(); });
      if (queue_.empty()) return;
      auto line = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      auto response = server_.handle_text(*session_, line, outlet());
      if (response) write(*response);
    }
  }

  void finish() {
    session_->abandon();
    std::lock_guard lock(queue_mutex_);
    queued_.notify_all();
  }

 private:
  Outlet outlet() {
    return {[this](const Json& out) { write(out); }, {}};
  }

  Server& server_;
  std::ostream& out_;
  std::shared_ptr<Session> session_;
  std::mutex out_mutex_, queue_mutex_;
  std::condition_variable queued_;
  std::deque<std::string> queue_;
};

}  // namespace

void serve_stdio(Server& server, std::istream& in, std::ostream& out) {
  StdioConnection connection(server, out);
  std::jthread worker([&](std::stop_token stop) { connection.serve_queue(stop); });
  std::jthread poller([&](std::stop_token stop) {
    while (!stop.stop_requested()) {
      std::this_thread::sleep_for(kPollInterval);
      server.poll_changes();
    }
  });
  std::string line;
  while (std::getline(in, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos) connection.receive(line);
  worker.request_stop();
  connection.finish();
}

}  // namespace opdbus::mcp
