// MCP Streamable HTTP; see http.h.
#include "mcp/http.h"

#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <thread>

namespace opdbus::mcp {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kRetryMilliseconds = 1000;
constexpr auto kKeepAlive = std::chrono::seconds(15);
constexpr auto kPollInterval = std::chrono::milliseconds(250);
constexpr size_t kOutboxLimit = 1000;
constexpr size_t kKeptStreams = 64;
constexpr const char* kHeaderVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};

// One SSE stream's events, kept after the HTTP response ends so a client can resume it.
class EventStream {
 public:
  explicit EventStream(std::string id) : id_(std::move(id)) {}
  const std::string& id() const { return id_; }

  void append(const Json& message) {
    std::lock_guard lock(mutex_);
    events_.push_back(message.dump(-1, ' ', false, Json::error_handler_t::replace));
    changed_.notify_all();
  }
  void finish() {
    std::lock_guard lock(mutex_);
    finished_ = true;
    changed_.notify_all();
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }

  struct Batch {
    std::vector<std::pair<uint64_t, std::string>> events;  // sequence numbers start at 1
    bool finished = false;
    bool released = false;
  };
  Batch after(uint64_t seen, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout,
                      [&] { return events_.size() > seen || finished_ || released_; });
    Batch batch{{}, finished_, released_};
    for (uint64_t seq = seen + 1; seq <= events_.size(); ++seq)
      batch.events.emplace_back(seq, events_[seq - 1]);
    return batch;
  }

 private:
  const std::string id_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> events_;
  bool finished_ = false;
  bool released_ = false;
};

// The transport's side of one MCP session.
struct Channels {
  std::shared_ptr<Session> session;
  std::string principal;
  std::mutex mutex;
  std::condition_variable outbox_ready;
  std::deque<std::string> outbox;  // unprompted messages for the GET stream(s)
  std::map<std::string, std::shared_ptr<EventStream>> streams;
  std::deque<std::string> stream_order;
  uint64_t next_stream = 1;
  Clock::time_point last_used = Clock::now();

  void push(const Json& message) {
    std::lock_guard lock(mutex);
    if (outbox.size() >= kOutboxLimit) outbox.pop_front();
    outbox.push_back(message.dump(-1, ' ', false, Json::error_handler_t::replace));
    outbox_ready.notify_one();
  }
  std::shared_ptr<EventStream> new_stream() {
    std::lock_guard lock(mutex);
    auto stream = std::make_shared<EventStream>(fmt::format("s{}", next_stream++));
    streams[stream->id()] = stream;
    stream_order.push_back(stream->id());
    if (stream_order.size() > kKeptStreams) {
      streams.erase(stream_order.front());
      stream_order.pop_front();
    }
    return stream;
  }
  std::shared_ptr<EventStream> stream(const std::string& id) {
    std::lock_guard lock(mutex);
    auto found = streams.find(id);
    return found == streams.end() ? nullptr : found->second;
  }
};

std::string lowered(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The host part of "host:port", "[v6]:port" or "host".
std::string host_part(const std::string& authority) {
  if (!authority.empty() && authority[0] == '[')
    return authority.substr(0, authority.find(']') + 1);
  return authority.substr(0, authority.find(':'));
}

// "host[:port]" of an origin "scheme://host[:port]"; empty when it is not one.
std::string origin_authority(const std::string& origin) {
  auto scheme_end = origin.find("://");
  if (scheme_end == std::string::npos) return {};
  auto authority = origin.substr(scheme_end + 3);
  return authority.substr(0, authority.find('/'));
}

bool loopback_host(const std::string& host) {
  auto name = lowered(host);
  return name == "localhost" || name == "127.0.0.1" || name == "[::1]" || name == "::1";
}

bool write_text(httplib::DataSink& sink, const std::string& text) {
  return sink.write(text.data(), text.size());
}

bool write_event(httplib::DataSink& sink, const std::string& stream, uint64_t seq,
                 const std::string& data) {
  return write_text(sink, fmt::format("id: {}:{}\ndata: {}\n\n", stream, seq, data));
}

void reply_error(httplib::Response& response, int status, int code, const std::string& message) {
  response.status = status;
  response.set_content(error_response(nullptr, code, message).dump(), "application/json");
}

}  // namespace

bool is_loopback_address(const std::string& address) {
  return loopback_host(address) || address.rfind("127.", 0) == 0;
}

Result<std::pair<std::string, int>> parse_listen_address(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return fail(ErrorCode::invalid_input, "'{}' is not ADDRESS:PORT", text);
  auto address = text.substr(0, colon);
  if (address.size() > 2 && address.front() == '[' && address.back() == ']')
    address = address.substr(1, address.size() - 2);
  auto port_text = text.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port_text) > 65535)
    return fail(ErrorCode::invalid_input, "'{}': the port must be 0-65535", text);
  return std::pair{address, std::stoi(port_text)};
}

struct HttpTransport::State {
  State(Server& mcp_server, HttpOptions http_options)
      : server(mcp_server), options(std::move(http_options)) {}

  Server& server;
  HttpOptions options;
  httplib::Server http;
  int port = 0;
  std::thread listener;
  std::thread poller;
  std::atomic<bool> stopping{false};
  std::mutex mutex;  // sessions, workers
  std::condition_variable workers_done;
  std::condition_variable stopped;
  size_t workers = 0;
  std::map<std::string, std::shared_ptr<Channels>> sessions;
  // Refusals are recorded at most once a minute per peer address; the ones in between are
  // counted and reported with the next record (or when the transport stops).
  struct Refusals {
    std::chrono::steady_clock::time_point recorded;
    size_t unrecorded = 0;
  };
  std::map<std::string, Refusals> refusals;  // under mutex

  void refused(const httplib::Request& request, const std::string& reason) {
    if (!server.catalogue().on_refused) return;
    auto now = std::chrono::steady_clock::now();
    size_t earlier = 0;
    {
      std::lock_guard lock(mutex);
      auto [entry, first] = refusals.try_emplace(request.remote_addr);
      if (!first && now - entry->second.recorded < std::chrono::minutes(1)) {
        ++entry->second.unrecorded;
        return;
      }
      earlier = std::exchange(entry->second.unrecorded, 0);
      entry->second.recorded = now;
    }
    server.catalogue().on_refused(
        earlier ? fmt::format("{} (and {} earlier refusals from this address)", reason, earlier)
                : reason,
        request.remote_addr);
  }

  void report_unrecorded_refusals() {
    std::map<std::string, Refusals> pending;
    {
      std::lock_guard lock(mutex);
      pending.swap(refusals);
    }
    for (const auto& [peer, entry] : pending)
      if (entry.unrecorded > 0 && server.catalogue().on_refused)
        server.catalogue().on_refused(
            fmt::format("{} more refused requests in the minute after the last record",
                        entry.unrecorded),
            peer);
  }

  bool tokens_required() const {
    return !options.config.tokens.empty() || !is_loopback_address(options.address);
  }

  // DNS-rebinding protection: the Host a browser was sent to and the page's Origin.
  bool trusted_origin(const httplib::Request& request) const {
    auto host = request.get_header_value("Host");
    bool host_ok = loopback_host(host_part(host)) || !is_loopback_address(options.address);
    for (const auto& origin : options.config.allowed_origins)
      host_ok = host_ok || origin_authority(origin) == host;
    if (!host_ok) return false;
    if (!request.has_header("Origin")) return true;  // not a browser
    auto origin = request.get_header_value("Origin");
    for (const auto& allowed : options.config.allowed_origins)
      if (origin == allowed) return true;
    auto authority = origin_authority(origin);
    return loopback_host(host_part(authority)) || authority == host;
  }

  Result<Principal> principal_of(const httplib::Request& request) const {
    auto header = request.get_header_value("Authorization");
    if (header.rfind("Bearer ", 0) == 0) {
      if (auto principal = options.config.principal_for(header.substr(7))) return *principal;
      return fail(ErrorCode::conflict, "unknown bearer token");
    }
    if (tokens_required()) return fail(ErrorCode::conflict, "a bearer token is required");
    return Principal{"loopback", false, {}};
  }

  void run_worker(std::function<void()> work) {
    {
      std::lock_guard lock(mutex);
      ++workers;
    }
    std::thread([this, work = std::move(work)] {
      work();
      std::lock_guard lock(mutex);
      --workers;
      workers_done.notify_all();
    }).detach();
  }

  std::shared_ptr<Channels> open_channels(const Principal& principal) {
    auto channels = std::make_shared<Channels>();
    channels->session = server.open_session(principal);
    channels->principal = principal.name;
    std::weak_ptr<Channels> weak = channels;
    channels->session->push = [weak](const Json& message) {
      if (auto alive = weak.lock()) alive->push(message);
    };
    std::lock_guard lock(mutex);
    std::erase_if(sessions, [&](const auto& entry) {
      if (Clock::now() - entry.second->last_used < options.session_idle_limit) return false;
      server.close_session(entry.first);
      entry.second->session->abandon();
      return true;
    });
    sessions[channels->session->id()] = channels;
    return channels;
  }

  std::shared_ptr<Channels> find_channels(const std::string& id) {
    std::lock_guard lock(mutex);
    auto found = sessions.find(id);
    if (found == sessions.end()) return nullptr;
    found->second->last_used = Clock::now();
    return found->second;
  }

  void handle_post(const httplib::Request& request, httplib::Response& response);
  void handle_get(const httplib::Request& request, httplib::Response& response);
  void handle_delete(const httplib::Request& request, httplib::Response& response);
  std::shared_ptr<Channels> session_for(const httplib::Request& request,
                                        httplib::Response& response);
  void stream_response(httplib::Response& response, std::shared_ptr<EventStream> stream,
                       uint64_t seen, bool priming);
  void stream_outbox(httplib::Response& response, std::shared_ptr<Channels> channels);
};

// The request's session, or an error response (400 without one, 404 unknown, 403 another
// token's).
std::shared_ptr<Channels> HttpTransport::State::session_for(const httplib::Request& request,
                                                            httplib::Response& response) {
  if (!request.has_header("Mcp-Session-Id")) {
    reply_error(response, 400, kInvalidRequest, "Mcp-Session-Id header required");
    return nullptr;
  }
  auto channels = find_channels(request.get_header_value("Mcp-Session-Id"));
  if (!channels) {
    reply_error(response, 404, kInvalidRequest, "session not found; initialize again");
    return nullptr;
  }
  auto principal = principal_of(request);
  if (!principal || principal->name != channels->principal) {
    reply_error(response, 403, kInvalidRequest, "this session belongs to another client");
    return nullptr;
  }
  return channels;
}

void HttpTransport::State::handle_post(const httplib::Request& request,
                                       httplib::Response& response) {
  auto message = Json::parse(request.body, nullptr, false);
  if (message.is_discarded())
    return reply_error(response, 400, kParseError, "parse error: the body is not JSON");
  if (!message.is_object())
    return reply_error(response, 400, kInvalidRequest, "one JSON-RPC message per POST");
  bool initialize = message.value("method", Json()) == "initialize";
  std::shared_ptr<Channels> channels;
  if (initialize) {
    auto principal = principal_of(request);
    if (!principal) {
      refused(request, principal.error().message);
      response.set_header("WWW-Authenticate", "Bearer");
      return reply_error(response, 401, kInvalidRequest, principal.error().message);
    }
    channels = open_channels(*principal);
    response.set_header("Mcp-Session-Id", channels->session->id());
  } else if (!(channels = session_for(request, response))) {
    return;
  }
  bool is_request = message.contains("method") && message.contains("id");
  bool wants_stream =
      request.get_header_value("Accept").find("text/event-stream") != std::string::npos;
  if (!is_request || initialize || !wants_stream) {
    Outlet outlet{[channels](const Json& out) { channels->push(out); }, {}};
    auto answer = server.handle(*channels->session, message, outlet);
    if (!answer) {
      response.status = 202;
      return;
    }
    response.set_content(answer->dump(-1, ' ', false, Json::error_handler_t::replace),
                         "application/json");
    return;
  }
  auto stream = channels->new_stream();
  run_worker([this, channels, stream, message] {
    Outlet outlet{[stream](const Json& out) { stream->append(out); },
                  [stream] { stream->release(); }};
    if (auto answer = server.handle(*channels->session, message, outlet)) stream->append(*answer);
    stream->finish();
  });
  stream_response(response, stream, 0, true);
}

// Writes `stream` from after `seen` until it finishes (or, for the POST that opened it, until
// the handler releases it), the client goes away, or the server stops.
void HttpTransport::State::stream_response(httplib::Response& response,
                                           std::shared_ptr<EventStream> stream, uint64_t seen,
                                           bool priming) {
  response.set_header("Cache-Control", "no-cache");
  response.set_chunked_content_provider(
      "text/event-stream", [this, stream, seen, priming](size_t, httplib::DataSink& sink) mutable {
        if (priming && !write_text(sink, fmt::format("id: {}:0\nretry: {}\ndata: \n\n",
                                                     stream->id(), kRetryMilliseconds)))
          return false;
        auto idle_since = Clock::now();
        while (!stopping) {
          auto batch = stream->after(seen, std::chrono::milliseconds(500));
          for (const auto& [seq, data] : batch.events) {
            if (!write_event(sink, stream->id(), seq, data)) return false;
            seen = seq;
            idle_since = Clock::now();
          }
          if ((batch.finished && batch.events.empty()) || (batch.released && priming)) break;
          if (Clock::now() - idle_since > kKeepAlive) {
            if (!write_text(sink, ": keep-alive\n\n")) return false;
            idle_since = Clock::now();
          }
        }
        sink.done();
        return true;
      });
}

// The session's GET stream: messages the server sends unprompted, each to one stream only.
void HttpTransport::State::stream_outbox(httplib::Response& response,
                                         std::shared_ptr<Channels> channels) {
  response.set_header("Cache-Control", "no-cache");
  response.set_chunked_content_provider(
      "text/event-stream",
      [this, channels, seq = uint64_t{0}](size_t, httplib::DataSink& sink) mutable {
        if (!write_text(sink, fmt::format("id: g:0\nretry: {}\ndata: \n\n", kRetryMilliseconds)))
          return false;
        auto idle_since = Clock::now();
        while (!stopping) {
          std::unique_lock lock(channels->mutex);
          channels->outbox_ready.wait_for(lock, std::chrono::milliseconds(500),
                                          [&] { return !channels->outbox.empty(); });
          if (channels->outbox.empty()) {
            lock.unlock();
            if (Clock::now() - idle_since > kKeepAlive) {
              if (!write_text(sink, ": keep-alive\n\n")) return false;
              idle_since = Clock::now();
            }
            continue;
          }
          auto data = std::move(channels->outbox.front());
          channels->outbox.pop_front();
          lock.unlock();
          if (!write_event(sink, "g", ++seq, data)) {
            channels->push(Json::parse(data));  // not delivered: the next stream gets it
            return false;
          }
          idle_since = Clock::now();
        }
        sink.done();
        return true;
      });
}

void HttpTransport::State::handle_get(const httplib::Request& request,
                                      httplib::Response& response) {
  if (request.get_header_value("Accept").find("text/event-stream") == std::string::npos)
    return reply_error(response, 406, kInvalidRequest, "GET /mcp serves text/event-stream");
  auto channels = session_for(request, response);
  if (!channels) return;
  if (request.has_header("Last-Event-ID")) {
    auto last = request.get_header_value("Last-Event-ID");
    auto colon = last.find(':');
    auto stream = colon == std::string::npos ? nullptr : channels->stream(last.substr(0, colon));
    if (stream) {
      auto seen = std::strtoull(last.c_str() + colon + 1, nullptr, 10);
      return stream_response(response, stream, seen, false);
    }
  }
  stream_outbox(response, channels);
}

void HttpTransport::State::handle_delete(const httplib::Request& request,
                                         httplib::Response& response) {
  auto channels = session_for(request, response);
  if (!channels) return;
  auto id = channels->session->id();
  channels->session->abandon();
  server.close_session(id);
  std::lock_guard lock(mutex);
  sessions.erase(id);
  response.status = 204;
}

Result<std::unique_ptr<HttpTransport>> HttpTransport::start(Server& server, HttpOptions options) {
  auto state = std::make_unique<State>(server, std::move(options));
  auto& self = *state;
  if (!is_loopback_address(self.options.address) && self.options.config.tokens.empty())
    return fail(ErrorCode::invalid_input,
                "serving MCP on {} needs bearer tokens (--config with \"tokens\"); only "
                "loopback addresses may go without",
                self.options.address);
  self.http.new_task_queue = [] { return new httplib::ThreadPool(64); };
  self.http.set_payload_max_length(self.options.max_body);
  // Events go out as they happen (no Nagle delay behind a small chunk) on long-lived connections.
  self.http.set_tcp_nodelay(true);
  self.http.set_keep_alive_max_count(10000);
  self.http.set_pre_routing_handler([&self](const auto& request, auto& response) {
    if (self.trusted_origin(request)) return httplib::Server::HandlerResponse::Unhandled;
    self.refused(request,
                 fmt::format("untrusted Host '{}' or Origin '{}'", request.get_header_value("Host"),
                             request.get_header_value("Origin")));
    reply_error(response, 403, kInvalidRequest, "forbidden: untrusted Host or Origin");
    return httplib::Server::HandlerResponse::Handled;
  });
  auto versioned = [&self](auto handler) {
    return [&self, handler](const httplib::Request& request, httplib::Response& response) {
      if (request.has_header("MCP-Protocol-Version")) {
        auto version = request.get_header_value("MCP-Protocol-Version");
        if (std::none_of(std::begin(kHeaderVersions), std::end(kHeaderVersions),
                         [&](const char* known) { return version == known; }))
          return reply_error(response, 400, kInvalidRequest,
                             fmt::format("unsupported MCP-Protocol-Version {}", version));
      }
      (self.*handler)(request, response);
    };
  };
  self.http.Post("/mcp", versioned(&State::handle_post));
  self.http.Get("/mcp", versioned(&State::handle_get));
  self.http.Delete("/mcp", versioned(&State::handle_delete));
  for (const auto& [extension, type] :
       {std::pair{"html", "text/html; charset=utf-8"}, std::pair{"js", "text/javascript"},
        std::pair{"css", "text/css"}, std::pair{"svg", "image/svg+xml"}})
    self.http.set_file_extension_and_mimetype_mapping(extension, type);
  if (!self.options.web_root.empty() &&
      !self.http.set_mount_point("/", self.options.web_root.string()))
    return fail(ErrorCode::invalid_input, "web UI directory {} not found",
                self.options.web_root.string());
  self.port =
      self.options.port == 0
          ? self.http.bind_to_any_port(self.options.address)
          : (self.http.bind_to_port(self.options.address, self.options.port) ? self.options.port
                                                                             : -1);
  if (self.port < 0)
    return fail(ErrorCode::io, "cannot listen on {}:{}", self.options.address, self.options.port);
  self.listener = std::thread([&self] { self.http.listen_after_bind(); });
  self.poller = std::thread([&self] {
    std::unique_lock lock(self.mutex);
    while (!self.stopped.wait_for(lock, kPollInterval, [&] { return self.stopping.load(); })) {
      lock.unlock();
      self.server.poll_changes();
      lock.lock();
    }
  });
  return std::unique_ptr<HttpTransport>(new HttpTransport(std::move(state)));
}

HttpTransport::HttpTransport(std::unique_ptr<State> state) : state_(std::move(state)) {}

HttpTransport::~HttpTransport() {
  stop();
}

int HttpTransport::port() const {
  return state_->port;
}

std::string HttpTransport::url() const {
  const auto& address = state_->options.address;
  return address.find(':') != std::string::npos
             ? fmt::format("http://[{}]:{}/mcp", address, state_->port)
             : fmt::format("http://{}:{}/mcp", address, state_->port);
}

void HttpTransport::stop() {
  auto& self = *state_;
  {
    std::lock_guard lock(self.mutex);
    if (self.stopping.exchange(true)) return;
    for (auto& [id, channels] : self.sessions) channels->session->abandon();
    self.stopped.notify_all();
  }
  self.http.stop();
  if (self.listener.joinable()) self.listener.join();
  if (self.poller.joinable()) self.poller.join();
  {
    std::unique_lock lock(self.mutex);
    self.workers_done.wait(lock, [&] { return self.workers == 0; });
  }
  self.report_unrecorded_refusals();
}

}  // namespace opdbus::mcp
