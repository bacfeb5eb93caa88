// OVSDB client; see client.h.
#include "proto/ovsdb/client.h"

#include <poll.h>

#include "base/fs.h"

namespace opdbus::ovsdb {
namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds left_until(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? left : std::chrono::milliseconds(0);
}

std::string describe_operation(const Json& operation) {
  return fmt::format("{} on {}", operation.value("op", "?"), operation.value("table", "?"));
}

}  // namespace

Result<Client> Client::connect(const std::string& address, const TlsFiles& tls) {
  return Client(address, tls, TRY(Stream::open(address, tls)));
}

Status Client::send(const Json& message) {
  return stream_.write_all(message.dump());
}

Status Client::handle(const Json& message, int64_t id, std::optional<Json>& reply) {
  if (message.contains("method")) {
    auto method = message["method"].get<std::string>();
    auto params = message.value("params", Json::array());
    bool request = message.contains("id") && !message["id"].is_null();
    if (request && method == "echo")
      return send({{"id", message["id"]}, {"result", params}, {"error", nullptr}});
    if (request)
      return send({{"id", message["id"]}, {"result", nullptr}, {"error", "unknown method"}});
    if (handler_) handler_(method, params);
    return ok();
  }
  if (probe_id_ && message.value("id", Json()) == Json(*probe_id_)) probe_id_.reset();
  if (message.value("id", Json()) == Json(id)) reply = message;
  return ok();  // a late answer to a call that timed out is dropped
}

Status Client::receive(std::chrono::milliseconds wait, int64_t id, std::optional<Json>& reply) {
  if (!stream_)
    return fail(ErrorCode::unavailable, "the OVSDB connection to {} is closed", address_);
  if (!stream_.buffered()) {
    pollfd readable{stream_.fd(), POLLIN, 0};
    int ready = ::poll(&readable, 1, static_cast<int>(wait.count()));
    if (ready < 0 && errno != EINTR) return fail(ErrorCode::io, "poll: {}", errno_text(errno));
    if (ready <= 0) return ok();
  }
  char buffer[65536];
  auto got = TRY(stream_.read(buffer, sizeof buffer));
  for (const auto& text : TRY(splitter_.feed({buffer, got}))) {
    auto message = Json::parse(text, nullptr, false);
    if (message.is_discarded() || !message.is_object())
      return fail(ErrorCode::io, "OVSDB sent a message that is not a JSON object");
    TRY(handle(message, id, reply));
  }
  return ok();
}

Result<Json> Client::call(const std::string& method, Json params,
                          std::chrono::milliseconds timeout) {
  auto id = next_id_++;
  TRY(send({{"method", method}, {"params", std::move(params)}, {"id", id}}));
  auto deadline = Clock::now() + timeout;
  std::optional<Json> reply;
  while (!reply) {
    if (Clock::now() >= deadline)
      return fail(ErrorCode::unavailable, "OVSDB {} at {}: no answer within {} ms", method,
                  address_, timeout.count());
    TRY(receive(left_until(deadline), id, reply));
  }
  const auto& error = (*reply)["error"];
  if (!error.is_null())
    return fail(ErrorCode::invalid_input, "OVSDB {}: {}", method,
                error.is_string() ? error.get<std::string>() : error.dump());
  return (*reply)["result"];
}

Result<Json> Client::get_schema(const std::string& database) {
  return call("get_schema", Json::array({database}));
}

Result<Json> Client::transact(const std::string& database, const Json& operations,
                              std::chrono::milliseconds timeout) {
  Json params = Json::array({database});
  for (const auto& operation : operations) params.push_back(operation);
  auto results = TRY(call("transact", params, timeout));
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& result = results[i];
    if (!result.is_object() || !result.contains("error")) continue;
    auto what = i < operations.size()
                    ? fmt::format("operation {} ({})", i, describe_operation(operations[i]))
                    : std::string("the commit");
    return fail(ErrorCode::invalid_input, "OVSDB transaction failed at {}: {}{}", what,
                result["error"].get<std::string>(),
                result.contains("details") ? ": " + result["details"].get<std::string>() : "");
  }
  return results;
}

Result<Json> Client::monitor_cond(const std::string& database, const Json& id, const Json& requests,
                                  std::chrono::milliseconds timeout) {
  return call("monitor_cond", Json::array({database, id, requests}), timeout);
}

Status Client::probe() {
  if (probe_id_)
    return fail(ErrorCode::unavailable, "OVSDB at {} did not answer the last echo probe", address_);
  probe_id_ = next_id_++;
  return send({{"method", "echo"}, {"params", Json::array({"op-dbus"})}, {"id", *probe_id_}});
}

Status Client::process(std::chrono::milliseconds wait) {
  std::optional<Json> unused;
  return receive(wait, -1, unused);
}

Json set_items(const Json& value) {
  if (value.is_array() && value.size() == 2 && value[0] == "set") return value[1];
  return Json::array({value});  // a one-element set may be its bare atom (["uuid", U] included)
}

Json map_object(const Json& value) {
  Json out = Json::object();
  if (value.is_array() && value.size() == 2 && value[0] == "map")
    for (const auto& pair : value[1]) out[pair[0].get<std::string>()] = pair[1];
  return out;
}

std::string uuid_of(const Json& value) {
  return value.is_array() && value.size() == 2 ? value[1].get<std::string>() : "";
}

Json ovsdb_set(const Json& items) {
  return Json::array({"set", items});
}

Json ovsdb_map(const Json& object) {
  Json pairs = Json::array();
  for (const auto& [key, value] : object.items()) pairs.push_back(Json::array({key, value}));
  return Json::array({"map", pairs});
}

}  // namespace opdbus::ovsdb
