// An OVSDB client (RFC 7047 JSON-RPC) over one persistent stream connection ("unix:PATH",
// "tcp:HOST:PORT" or "ssl:HOST:PORT", see stream.h): requests with ids, answers matched by id, the
// server's "echo" answered, notifications ("update", "update2") handed to a handler, transact with
// every operation's result checked, get_schema, monitor_cond. Invariants: every call has a
// deadline; a transaction that fails names the operation, its table and the server's error and
// details; a broken connection fails every call (its owner opens a new client: the daemon
// retries with back-off).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "base/json_util.h"
#include "base/result.h"
#include "proto/ovsdb/framing.h"
#include "proto/ovsdb/stream.h"

namespace opdbus::ovsdb {

using NotificationHandler = std::function<void(const std::string& method, const Json& params)>;

class Client {
 public:
  static Result<Client> connect(const std::string& address, const TlsFiles& tls = {});

  Result<Json> call(const std::string& method, Json params,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30));
  Result<Json> get_schema(const std::string& database);
  // The operations' results; fails naming the first operation the server refused.
  Result<Json> transact(const std::string& database, const Json& operations,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Starts a monitor_cond (RFC 7047 monitor with conditions, "update2" notifications carrying
  // only changed columns); returns the initial rows.
  Result<Json> monitor_cond(const std::string& database, const Json& id, const Json& requests,
                            std::chrono::milliseconds timeout = std::chrono::seconds(30));

  void on_notification(NotificationHandler handler) { handler_ = std::move(handler); }
  // Inactivity probe: sends an "echo" without waiting; fails when the previous one is still
  // unanswered (the answer is consumed by process()).
  Status probe();
  // Reads what has arrived (waiting up to `wait`), answering echoes and dispatching
  // notifications.
  Status process(std::chrono::milliseconds wait);
  int fd() const { return stream_.fd(); }
  const std::string& address() const { return address_; }

 private:
  Client(std::string address, TlsFiles tls, Stream stream)
      : address_(std::move(address)), tls_(std::move(tls)), stream_(std::move(stream)) {}
  Status send(const Json& message);
  // Reads once (waiting up to `wait`) and handles every complete message; a reply to `id`
  // is stored in `reply`.
  Status receive(std::chrono::milliseconds wait, int64_t id, std::optional<Json>& reply);
  Status handle(const Json& message, int64_t id, std::optional<Json>& reply);

  std::string address_;
  TlsFiles tls_;
  Stream stream_;
  MessageSplitter splitter_;
  int64_t next_id_ = 1;
  std::optional<int64_t> probe_id_;  // the echo probe awaiting its answer
  NotificationHandler handler_;
};

// OVSDB's <set> and <map> notation as plain JSON: ["set", [a, b]] -> [a, b] (a one-element set
// may also be the bare atom), ["map", [[k, v]]] -> {k: v}; uuid_of(["uuid", U]) -> U.
Json set_items(const Json& value);
Json map_object(const Json& value);
std::string uuid_of(const Json& value);
// The other way round, for operations.
Json ovsdb_set(const Json& items);
Json ovsdb_map(const Json& object);

}  // namespace opdbus::ovsdb
